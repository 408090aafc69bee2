/**
 * Analytics over a large access log against GoAccess on the same file in the same run: each reads the log,
 * computes the panels and writes a JSON report, as a child process timed from start to exit. Prints lines/s
 * side by side, and checks both agree on the totals.
 *
 *   npm run bench -- analytics [--lines=1000000]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrafficStats } from '../../shared/analytics/stats';
import { writeLog } from '../load/access-log';
import { count, goAccessVersion, runGoAccess, table, timed, type ChildRun, type Timed } from './lib';
import type { Benchmark } from './run';

function linesFlag(args: string[]): number {
  const flag = args.find((a) => a.startsWith('--lines='));
  const lines = flag ? Number(flag.slice('--lines='.length)) : 1_000_000;
  if (!Number.isInteger(lines) || lines < 1) throw new Error(`--lines must be a whole number, not ${flag}`);
  return lines;
}

const TOTALS = ['validRequests', 'uniqueVisitors', 'bandwidth'] as const;
type Totals = Pick<TrafficStats['totals'], (typeof TOTALS)[number]>;

const benchmark: Benchmark = {
  title: 'traffic panels over one access log: this project vs GoAccess (lines/s, same file, same run)',
  async run(args) {
    const lines = linesFlag(args);
    const dir = mkdtempSync(join(tmpdir(), 'nks-analytics-bench-'));
    try {
      const log = join(dir, 'access.log');
      const size = await writeLog(log, lines);
      const goVersion = await goAccessVersion();
      console.log(`log: ${count(lines)} lines in nginx combined format, ${(size / 2 ** 20).toFixed(0)} MiB`);
      console.log(`GoAccess ${goVersion} (--log-format=COMBINED, JSON report)\n`);

      const oursOut = join(dir, 'ours.json');
      const goOut = join(dir, 'goaccess.json');
      const ours = await timed('analytics', process.execPath, [
        join(__dirname, 'analytics-run.js'),
        log,
        oursOut,
      ]);
      const go = await runGoAccess(log, goOut);

      const o = JSON.parse(readFileSync(oursOut, 'utf8')) as TrafficStats;
      const g = JSON.parse(readFileSync(goOut, 'utf8')) as {
        general: { valid_requests: number; unique_visitors: number; bandwidth: number };
      };
      const totals: Record<'ours' | 'go', Totals> = {
        ours: o.totals,
        go: {
          validRequests: g.general.valid_requests,
          uniqueVisitors: g.general.unique_visitors,
          bandwidth: g.general.bandwidth,
        },
      };
      const rate = (run: ChildRun) => lines / run.seconds;
      const cpuRate = (run: Timed) => (run.cpuSeconds ? count(lines / run.cpuSeconds) : 'n/a');
      const row = (tool: string, run: Timed, t: Totals) => [
        tool,
        run.seconds.toFixed(1),
        count(rate(run)),
        run.cpuSeconds?.toFixed(1) ?? 'n/a',
        cpuRate(run),
        run.peakRssMiB.toFixed(0),
        count(t.validRequests),
        count(t.uniqueVisitors),
        count(t.bandwidth),
      ];
      console.log(
        table([
          [
            'tool',
            'wall s',
            'lines/s (wall)',
            'CPU s',
            'lines/s (CPU)',
            'peak RSS MiB',
            'valid requests',
            'unique visitors',
            'bandwidth',
          ],
          row('this project (parse + fold, one process)', ours, totals.ours),
          row('GoAccess', go, totals.go),
        ]),
      );
      const agree = TOTALS.every((key) => totals.ours[key] === totals.go[key]);
      const cpuRatio =
        ours.cpuSeconds && go.cpuSeconds
          ? `, ${(go.cpuSeconds / ours.cpuSeconds).toFixed(1)}× by CPU time`
          : '';
      console.log(
        `\nspeed: ${(rate(ours) / rate(go)).toFixed(1)}× GoAccess's lines/s by wall time${cpuRatio} (goal ≥ 5×); ` +
          `totals ${agree ? 'agree' : 'DIFFER'}`,
      );
      if (!agree) process.exitCode = 1;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export = benchmark;
