/**
 * For the producing fault tests: real nginx lines at real sizes (the fixture a real nginx wrote, repeated,
 * each line made unique by a numbered path segment), and counting what a topic holds with kcat, which reads
 * to the end of every partition and exits, as a consumer (read_committed) or as a raw reader.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fixtureLines } from './fixtures';
import { kcatReadArgs } from '../../packages/serverless-offline-kafka/bench/kcat';

const run = promisify(execFile);

/** The fixture's lines that carry a request path, without the 8 KB one (used separately). */
function baseLines(): { short: string[]; long: string } {
  const all = fixtureLines('nginx/real-nginx-1.22.log');
  const withPath = all.filter((l) => /"[A-Z]+ \/[^ ]* HTTP\/1\.[01]"/.test(l));
  const long = withPath.reduce((a, b) => (b.length > a.length ? b : a));
  return { short: withPath.filter((l) => l !== long), long };
}

/** The line's request path with `/<tag>/<n>` in front: every line of a run is different and findable. */
export function markLine(line: string, tag: string, n: number): string {
  return line.replace(/"([A-Z]+) \//, `"$1 /${tag}/${n}/`);
}

/** The `/<tag>/<n>` a line (or a record's raw line) was marked with, or undefined. */
export function markOf(text: string, tag: string): number | undefined {
  const found = new RegExp(`"[A-Z]+ /${tag}/(\\d+)/`).exec(text);
  return found ? Number(found[1]) : undefined;
}

/**
 * `count` real nginx lines, numbered from `first`; one line in `longEvery` is the fixture's 8 KB request
 * line, which brings 20,000 lines to about 4.9 MB, the size of a busy hour of a real log.
 */
export function realLog(count: number, tag: string, first = 0, longEvery = 60): string[] {
  const { short, long } = baseLines();
  return Array.from({ length: count }, (_, i) => {
    const n = first + i;
    const line = longEvery > 0 && n % longEvery === longEvery - 1 ? long : short[n % short.length]!;
    return markLine(line, tag, n);
  });
}

export interface TopicRecord {
  partition: number;
  offset: number;
  headers: string;
  value: string;
}

/**
 * Every record of `topic`, read to the end of each partition. `committed` (a consumer's view, the
 * default) skips records of aborted or open transactions; `uncommitted` shows everything that was written.
 */
export async function topicRecords(
  brokers: string[],
  topic: string,
  isolation: 'committed' | 'uncommitted' = 'committed',
): Promise<TopicRecord[]> {
  const { stdout } = await run(
    'kcat',
    kcatReadArgs(brokers, topic, '-X', `isolation.level=read_${isolation}`, '-f', '%p\t%o\t%h\t%s\n'),
    { maxBuffer: 512 * 1024 * 1024, timeout: 60000 },
  );
  return stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [partition, offset, headers, ...value] = l.split('\t');
      return {
        partition: Number(partition),
        offset: Number(offset),
        headers: headers!,
        value: value.join('\t'),
      };
    });
}

/** How many times each mark occurs among the records' values (raw lines inside the JSON, or dead letters). */
export function marksIn(records: TopicRecord[], tag: string): Map<number, number> {
  const seen = new Map<number, number>();
  for (const r of records) {
    const n = markOf(r.value.replace(/\\"/g, '"'), tag);
    if (n !== undefined) seen.set(n, (seen.get(n) ?? 0) + 1);
  }
  return seen;
}
