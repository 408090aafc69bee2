/**
 * The analytics agree with GoAccess on a log written by a real nginx under varied traffic: requests,
 * unique visitors, status codes, requested files, not-found URLs and bandwidth are equal over every line
 * GoAccess accepts; the lines GoAccess rejects are still counted by ours, and listed in
 * test-artifacts/goaccess-rejected.log.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TrafficFold } from '../../shared/analytics/fold';
import { statsFromFold, type TrafficStats } from '../../shared/analytics/stats';
import { parseCombined } from '../../shared/nginx/combined';
import { decodeNginxEscapes } from '../../shared/nginx/escapes';
import { startNginx, type RunningNginx } from '../helpers/analytics-nginx';
import { ROOT } from '../helpers/fixtures';
import { freePort } from '../helpers/ports';
import { sendAll, variedTraffic } from '../helpers/varied-traffic';
import { waitFor } from '../helpers/wait';

jest.setTimeout(120000);
const run = promisify(execFile);

interface GoItem {
  data: string;
  hits: { count: number };
  method?: string;
  protocol?: string;
  items?: GoItem[];
}
interface GoReport {
  general: {
    total_requests: number;
    valid_requests: number;
    failed_requests: number;
    unique_visitors: number;
    bandwidth: number;
  };
  requests: { data: GoItem[] };
  static_requests: { data: GoItem[] };
  not_found: { data: GoItem[] };
  status_codes: { data: GoItem[] };
}

let nginx: RunningNginx;
let lines: string[];
let report: GoReport;
let rejected: string[];
const traffic = variedTraffic(400);

beforeAll(async () => {
  nginx = await startNginx(await freePort());
  await sendAll(nginx.port, traffic);
  // nginx writes a line when a request completes; the last connections may close a moment before.
  lines = await waitFor(
    () => {
      const text = readFileSync(nginx.accessLog, 'utf8');
      const all = text.split('\n').filter((l) => l.length > 0);
      return all.length >= traffic.length + 1 ? all : undefined;
    },
    'nginx to log every request',
    20000,
  );
  const out = join(nginx.dir, 'report.json');
  const invalid = join(nginx.dir, 'invalid.log');
  await run(
    'goaccess',
    [nginx.accessLog, '--log-format=COMBINED', '--no-progress', '-o', out, `--invalid-requests=${invalid}`],
    {
      timeout: 60000,
    },
  );
  report = JSON.parse(readFileSync(out, 'utf8')) as GoReport;
  const pieces = readFileSync(invalid, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  rejected = lines.filter((l) => pieces.some((p) => l.startsWith(p)));
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
  writeFileSync(
    join(ROOT, 'test-artifacts', 'goaccess-rejected.log'),
    rejected.map((l) => `${l}\n`).join(''),
  );
});

afterAll(() => nginx?.stop());

function ours(of: string[]): TrafficStats {
  const fold = new TrafficFold();
  for (const line of of) {
    const parsed = parseCombined(line);
    if (!parsed.ok) throw new Error(`${parsed.reason}: ${line}`);
    fold.add(parsed.record);
  }
  return statsFromFold(fold, { top: 100000 });
}

/** GoAccess keeps nginx's \xNN escapes in its keys; ours are decoded. */
const goKey = (i: GoItem) => `${i.method ?? ''} ${i.protocol ?? ''} ${decodeNginxEscapes(i.data)}`;
const goMap = (items: GoItem[]) => new Map(items.map((i) => [goKey(i), i.hits.count]));
const ourMap = (s: TrafficStats['panels']['requests']) =>
  new Map(s.items.map((i) => [`${i.method} ${i.protocol} ${i.key}`, i.hits]));

it('counts every line nginx wrote, those GoAccess rejects included', () => {
  expect(ours(lines).totals.validRequests).toBe(lines.length);
  expect(report.general.valid_requests + rejected.length).toBe(lines.length);
  // Reported so a reader can see what GoAccess leaves out (request lines longer than its line buffer).
  console.log(
    `GoAccess rejected ${rejected.length} of ${lines.length} nginx lines; ours counted all of them`,
  );
});

describe('over the lines GoAccess accepts', () => {
  let accepted: TrafficStats;
  beforeAll(() => {
    const skip = new Set(rejected);
    accepted = ours(lines.filter((l) => !skip.has(l)));
  });

  it('has the same totals', () => {
    expect(accepted.totals.validRequests).toBe(report.general.valid_requests);
    expect(accepted.totals.uniqueVisitors).toBe(report.general.unique_visitors);
    expect(accepted.totals.bandwidth).toBe(report.general.bandwidth);
  });

  it('has the same status codes', () => {
    const go = new Map(
      report.status_codes.data.flatMap((group) =>
        (group.items ?? []).map((i) => [i.data.slice(0, 3), i.hits.count]),
      ),
    );
    expect(new Map(accepted.panels.status_codes.items.map((i) => [i.key, i.hits]))).toEqual(go);
  });

  it('has the same requested files, static files and not-found URLs', () => {
    expect(ourMap(accepted.panels.requests)).toEqual(goMap(report.requests.data));
    expect(ourMap(accepted.panels.static_requests)).toEqual(goMap(report.static_requests.data));
    expect(ourMap(accepted.panels.not_found)).toEqual(goMap(report.not_found.data));
  });
});
