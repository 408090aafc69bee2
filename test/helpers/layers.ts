/**
 * The top level is grouped by who runs the code, and imports go only downward:
 *
 *   lab/       measuring and showing   -> tools, local, packages, shared
 *   tools/     operators               -> packages, shared
 *   local/     the developer's laptop  -> packages, shared
 *   functions/ AWS Lambda              -> shared
 *   shared/    AWS Lambda              -> nothing above it
 *   packages/X a package of its own    -> nothing outside itself
 *   test/      the application's tests -> anything
 *
 * Within a group, folders may import each other (local/redis uses local/common). This file reads import
 * specifiers out of TypeScript and JavaScript sources; a specifier that cannot be resolved to a file of the
 * repository (an npm package, node:*) is a dependency on that package, not on a layer, except the workspace
 * packages, which count as their folder.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';

/** The layer a repository path (posix, relative to the root) belongs to; null for root files. */
export function layerOf(path: string): string | null {
  const parts = path.split('/');
  if (parts.length < 2) return null;
  if (parts[0] === 'packages') return parts.length > 2 ? `packages/${parts[1]}` : null;
  return parts[0]!;
}

const MAY_IMPORT: Record<string, (target: string) => boolean> = {
  shared: (t) => t === 'shared',
  functions: (t) => t === 'functions' || t === 'shared',
  local: (t) => t === 'local' || t === 'shared' || t.startsWith('packages/'),
  tools: (t) => t === 'tools' || t === 'shared' || t.startsWith('packages/'),
  lab: (t) => ['lab', 'tools', 'local', 'shared'].includes(t) || t.startsWith('packages/'),
  test: () => true,
};

/** Whether code in layer `from` may import code in layer `to`; false for a folder no layer names. */
export function mayImport(from: string, to: string): boolean {
  if (from.startsWith('packages/')) return to === from;
  return MAY_IMPORT[from]?.(to) ?? false;
}

export interface ImportSite {
  /** The importing file, posix path relative to the repository root. */
  file: string;
  line: number;
  specifier: string;
}

const SPECIFIER =
  /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+|\bimport\s+\w+\s*=\s*require\s*\(\s*)['"]([^'"]+)['"]/gm;

/** Every module specifier a source text names: `import ... from`, `export ... from`, `import()`, `require()`. */
export function specifiersOf(file: string, text: string): ImportSite[] {
  const sites: ImportSite[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const line = text.slice(0, match.index).split('\n').length;
    sites.push({ file, line, specifier: match[1]! });
  }
  return sites;
}

export interface Violation extends ImportSite {
  from: string;
  to: string;
}

/**
 * The imports that go sideways or upward. `resolve` turns a relative specifier into the repository path it
 * names (or null when it names nothing there); `workspaces` maps a workspace package's npm name to its folder.
 */
export function violations(
  sites: ImportSite[],
  resolve: (site: ImportSite) => string | null,
  workspaces: Record<string, string> = {},
): Violation[] {
  const found: Violation[] = [];
  for (const site of sites) {
    const from = layerOf(site.file);
    if (from === null) continue;
    let target: string | null = null;
    if (site.specifier.startsWith('.')) {
      target = resolve(site);
      if (target === null) continue;
    } else {
      const name = site.specifier.startsWith('@')
        ? site.specifier.split('/').slice(0, 2).join('/')
        : site.specifier.split('/')[0]!;
      if (!(name in workspaces)) continue;
      target = `${workspaces[name]}/package.json`;
    }
    const to = layerOf(target);
    if (to === null || to === from) continue;
    if (!mayImport(from, to)) found.push({ ...site, from, to });
  }
  return found;
}

/** A relative specifier resolved against the files of the repository rooted at `root`, as TypeScript would. */
export function resolveIn(root: string): (site: ImportSite) => string | null {
  return (site) => {
    const base = join(root, dirname(site.file), site.specifier);
    for (const candidate of [
      base,
      `${base}.ts`,
      `${base}.js`,
      join(base, 'index.ts'),
      join(base, 'index.js'),
    ]) {
      if (existsSync(candidate) && statSync(candidate).isFile()) {
        const path = relative(root, candidate).split(sep).join(posix.sep);
        return path.startsWith('..') ? null : path;
      }
    }
    return null;
  };
}

const SKIP = new Set(['node_modules', 'dist', 'coverage', 'test-artifacts']);

/** The repository's own sources: .ts, .js and .mjs files outside node_modules, build output and dot-folders. */
export function sourceFiles(root: string, dir = ''): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIP.has(entry.name)) continue;
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...sourceFiles(root, path));
    else if (/\.(ts|js|mjs|cjs)$/.test(entry.name)) files.push(path);
  }
  return files;
}

/** The workspace packages of the repository: npm name -> folder. */
export function workspacePackages(root: string): Record<string, string> {
  const packages: Record<string, string> = {};
  for (const entry of readdirSync(join(root, 'packages'), { withFileTypes: true })) {
    const manifest = join(root, 'packages', entry.name, 'package.json');
    if (!entry.isDirectory() || !existsSync(manifest)) continue;
    packages[(JSON.parse(readFileSync(manifest, 'utf8')) as { name: string }).name] =
      `packages/${entry.name}`;
  }
  return packages;
}
