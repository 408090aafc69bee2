/**
 * The workload every broker gets: N nginx access-log lines in the `combined` format, from a handful of
 * clients, each line carrying its sequence number in the path (`/r/<seq>`) so a receiver can tell order and
 * duplicates. Parsed with the project's own parser, they are the records the pipeline carries.
 */
import { parseCombined } from '../../shared/nginx/combined';
import type { NginxRecord } from '../../shared/nginx/record';

export const CLIENTS = 8;

const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'curl/7.88.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
];
const STATUSES = [200, 200, 200, 304, 404, 500];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function timeLocal(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

export function clientOf(seq: number): string {
  return `10.0.0.${(seq % CLIENTS) + 1}`;
}

function nginxLine(seq: number, startMs = Date.UTC(2024, 10, 11, 12, 0, 0)): string {
  const status = STATUSES[seq % STATUSES.length]!;
  const agent = AGENTS[seq % AGENTS.length]!;
  const bytes = status === 304 ? 0 : 512 + (seq % 2048);
  return `${clientOf(seq)} - - [${timeLocal(startMs + seq * 10)}] "GET /r/${seq}?page=${seq % 7} HTTP/1.1" ${status} ${bytes} "-" "${agent}"`;
}

export function nginxLines(count: number, first = 0): string[] {
  return Array.from({ length: count }, (_, i) => nginxLine(first + i));
}

export function parsedRecords(lines: readonly string[]): NginxRecord[] {
  return lines.map((line) => {
    const parsed = parseCombined(line);
    if (!parsed.ok)
      throw new Error(`the workload generator wrote a line the parser rejects: ${parsed.reason}`);
    return parsed.record;
  });
}
