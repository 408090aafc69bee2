/**
 * One analytics pass over an access log, as the benchmark runs it in a child process: read the file, parse
 * every line, fold it into the panels, and write the stats as JSON (beside it, lines that did not parse).
 *
 *   node dist/lab/bench/analytics-run.js <access.log> <report.json>
 */
import { openSync, readSync, closeSync, writeFileSync } from 'node:fs';
import { TrafficFold } from '../../shared/analytics/fold';
import { statsFromFold } from '../../shared/analytics/stats';
import { parseCombined } from '../../shared/nginx/combined';

export function foldFile(file: string): TrafficFold {
  const fold = new TrafficFold();
  const fd = openSync(file, 'r');
  const buffer = Buffer.alloc(4 * 1024 * 1024);
  let rest = '';
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      const text = rest + buffer.toString('utf8', 0, n);
      let start = 0;
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
        if (end > start) add(fold, text.slice(start, end));
        start = end + 1;
      }
      rest = text.slice(start);
    }
    if (rest.length > 0) add(fold, rest);
  } finally {
    closeSync(fd);
  }
  return fold;
}

function add(fold: TrafficFold, line: string): void {
  const parsed = parseCombined(line);
  if (parsed.ok) fold.add(parsed.record);
  else fold.fail(parsed.reason);
}

if (require.main === module) {
  const [file, out] = process.argv.slice(2);
  if (!file || !out) {
    console.error('usage: analytics-run <access.log> <report.json>');
    process.exit(2);
  }
  const fold = foldFile(file);
  writeFileSync(out, JSON.stringify(statsFromFold(fold, { top: 50 })));
}
