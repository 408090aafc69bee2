/**
 * Expands the shell-style patterns a user passes (`/var/log/nginx/*.log`, `logs/access-?.log`) when the
 * shell did not: `*`, `?` and `[...]` within one path segment. A path without wildcards is kept as given,
 * so a missing file is reported by name.
 */
import { readdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

const WILDCARD = /[*?[]/;

export function hasWildcard(pattern: string): boolean {
  return WILDCARD.test(pattern);
}

function segmentRegExp(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) source += '\\[';
      else {
        const body = segment
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        source += `[${body}]`;
        i = close;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Files matching one pattern, sorted; hidden entries only when the pattern segment starts with a dot. */
export function expandPattern(pattern: string): string[] {
  if (!hasWildcard(pattern)) return [pattern];
  const segments = pattern.split('/');
  let bases = [isAbsolute(pattern) ? '/' : '.'];
  segments.forEach((segment, index) => {
    if (segment === '' || segment === '.') return;
    const last = index === segments.length - 1;
    const next: string[] = [];
    for (const base of bases) {
      if (!hasWildcard(segment)) {
        next.push(join(base, segment));
        continue;
      }
      const matcher = segmentRegExp(segment);
      let entries;
      try {
        entries = readdirSync(base, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const entry of entries) {
        if (entry.name.startsWith('.') && !segment.startsWith('.')) continue;
        if (!matcher.test(entry.name)) continue;
        if (!last && !entry.isDirectory() && !entry.isSymbolicLink()) continue;
        next.push(join(base, entry.name));
      }
    }
    bases = next;
  });
  return bases.map((p) => (isAbsolute(pattern) || p.startsWith('../') ? p : p.replace(/^\.\//, ''))).sort();
}
