/**
 * The hostile-traffic attack suite, against the real stack: serverless offline with the local Kafka event
 * source, a real broker, a real Redis, and the dashboard in a real headless Chromium.
 *
 * - Lines claiming 2^53-1 body bytes and a line dated 31/Dec/9999 are refused at ingest with their reason
 *   (the dead-letter topic holds each once); the same values written straight to the topic by a producer
 *   that skipped the parser are refused by the consumers' decoder, dead-lettered once (not once per
 *   consumer group) and counted as failed. Then 50 ordinary lines are ALL counted and the panels add up
 *   to hand-computed values.
 * - With ANONYMIZE_IP on, /stats and the dashboard show addresses masked as GoAccess --anonymize-ip masks
 *   them, hits per masked address and unique visitors as GoAccess counts them on the same lines.
 * - Script in the path, referrer and user agent is shown as text and never runs; ?interval=abc keeps the
 *   dashboard's 500 ms floor.
 * - A user agent carrying CR LF and a header adds no header to the record or to an HTTP answer; log text
 *   shaped like Redis keys or Lua touches no key but the panels' members.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { Browser } from 'playwright-core';
import type { RunningOffline } from '../../lab/demo/offline';
import { loadConfig } from '../../shared/config';
import { createProducer } from '../../shared/kafka/producer';
import { DLQ_HEADER, HEADER } from '../../shared/record/contract';
import { analyticsKeys } from '../../shared/store/analytics-store';
import type { TrafficStats } from '../../shared/analytics/stats';
import { startAnalyticsStack, type AnalyticsStack } from '../helpers/analytics-stack';
import { launchChromium } from '../helpers/browser';
import { header, readTopic, uniqueName } from '../helpers/kafka';
import { isoNow, recordValue, timeLocal } from '../helpers/log-lines';
import { settledRecordCount } from '../helpers/quiescence';
import { waitFor } from '../helpers/wait';

jest.setTimeout(180000);

const canary = uniqueName('hostile-canary');
let stack: AnalyticsStack;
let offline: RunningOffline;
let browser: Browser | undefined;
let redis: Redis;
let topic: string;
let deadLetterTopic: string;
let prefix: string;

beforeAll(async () => {
  stack = await startAnalyticsStack('hostile', { ANONYMIZE_IP: 'true' });
  ({ offline, redis, topic, deadLetterTopic, prefix } = stack);
  await redis.set(canary, 'still here');
});

afterAll(async () => {
  await browser?.close();
  await redis.del(canary);
  expect(await stack.stop()).toBe(0);
});

const now = timeLocal(new Date());
const line = (
  addr: string,
  path: string,
  status: number,
  bytes: number | string,
  referer = '-',
  agent = 'curl/8.5.0',
) => `${addr} - - [${now}] "GET ${path} HTTP/1.1" ${status} ${bytes} "${referer}" "${agent}"`;

async function ingest(lines: string[]): Promise<{ accepted: number; rejected: number }> {
  const response = await fetch(`${offline.url}/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: `${lines.join('\n')}\n`,
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { accepted: number; rejected: number };
}

async function stats(query = '?top=1000'): Promise<TrafficStats> {
  const response = await fetch(`${offline.url}/stats${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as TrafficStats;
}

/** Sum of a number field over the structured batch lines one function logged. */
function logged(event: string, field: string): number {
  let sum = 0;
  for (const text of offline.lines) {
    const at = text.indexOf('{');
    if (at === -1 || !text.includes(`"msg":"${event}"`)) continue;
    try {
      sum += Number((JSON.parse(text.slice(at)) as Record<string, unknown>)[field] ?? 0);
    } catch {
      // not a log line of ours
    }
  }
  return sum;
}

/** Dead letters a consumer reads, once the topic is still (ingest writes them in transactions). */
function deadLetterCount(): Promise<number> {
  return settledRecordCount(deadLetterTopic);
}

const HOSTILE = 1200;
/** Written straight to the topic, past the parser: 20 overflowing records, one from 9999, one not JSON. */
const BYPASS = 22;
const ORDINARY = Array.from({ length: 50 }, (_, i) =>
  line(
    i % 2 ? `192.0.2.${10 + (i % 5)}` : `2001:db8:0:${i % 3}::${i + 1}`,
    `/ordinary/${i % 10}`,
    i % 7 === 0 ? 404 : 200,
    100 + i,
  ),
);

it('refuses overflowing and far-future lines once each, then counts every one of 50 ordinary lines', async () => {
  // 1. Through /ingest, in requests of 100 lines: every one refused with its reason.
  const hostile = Array.from({ length: HOSTILE }, (_, i) =>
    line(`198.51.100.${i % 200}`, `/h/${i}`, 200, 2 ** 53 - 1),
  );
  let refused = 0;
  for (let i = 0; i < hostile.length; i += 100) refused += (await ingest(hostile.slice(i, i + 100))).rejected;
  const future = await ingest([
    line('198.51.100.1', '/future', 200, 5).replace(now, '31/Dec/9999:23:59:59 +0000'),
  ]);
  expect({ refused, future }).toEqual({ refused: HOSTILE, future: { ...future, accepted: 0, rejected: 1 } });

  // 2. Straight to the topic, as a producer that skipped the parser would write them.
  const iso = isoNow();
  const producer = createProducer(loadConfig());
  await producer.connect();
  await producer.send({
    topic,
    messages: [
      ...Array.from({ length: 20 }, (_, i) => ({
        key: `b${i}`,
        value: recordValue(i, 2 ** 53 - 1, iso, '/bypass'),
      })),
      { key: 'f', value: recordValue(0, 5, '9999-12-31T23:59:59+00:00', '/bypass') },
      { key: 'x', value: 'not json at all' },
    ],
  });
  await producer.disconnect();

  // 3. Every consumer group saw the 22 bad records; only one of them wrote dead letters.
  await waitFor(
    () =>
      logged('analytics.batch', 'invalid') === BYPASS &&
      logged('alerts.batch', 'invalid') === BYPASS &&
      logged('summarizer.batch', 'invalid') === BYPASS,
    'every consumer group to see the bad records',
    60000,
  );
  expect(await deadLetterCount()).toBe(HOSTILE + 1 + BYPASS);
  const letters = await readTopic(deadLetterTopic, HOSTILE + 1 + BYPASS);
  const byStage = (stage: string) => letters.filter((l) => header(l, DLQ_HEADER.stage) === stage);
  expect(byStage('parse')).toHaveLength(HOSTILE + 1);
  expect(byStage('decode')).toHaveLength(BYPASS);
  expect(
    byStage('parse').filter((l) =>
      /body bytes 9007199254740991 is outside/.test(header(l, DLQ_HEADER.reason)!),
    ),
  ).toHaveLength(HOSTILE);
  expect(letters.some((l) => /more than a day ahead/.test(header(l, DLQ_HEADER.reason)!))).toBe(true);
  // The original bytes of a refused line travel with the letter.
  expect(byStage('parse')[0]!.value!.toString()).toBe(hostile[0]);

  // 4. 50 ordinary lines: all counted, the panels adding up to hand-computed values.
  expect(await ingest(ORDINARY)).toMatchObject({ accepted: 50, rejected: 0 });
  const served = await waitFor(
    async () => {
      const s = await stats();
      return s.totals.validRequests === 50 ? s : undefined;
    },
    'GET /stats to count the 50 ordinary lines',
    60000,
  );
  const bandwidth = 50 * 100 + (49 * 50) / 2; // 100 + i bytes for i = 0..49
  const notFound = 8; // i % 7 === 0 for i = 0, 7, ..., 49
  expect(served.totals).toEqual({
    totalRequests: 50 + BYPASS,
    validRequests: 50,
    failedRequests: BYPASS,
    uniqueVisitors: expect.any(Number),
    bandwidth,
  });
  const hits = (panel: keyof TrafficStats['panels']) =>
    served.panels[panel].items.reduce((n, i) => n + i.hits, 0);
  expect(hits('requests') + hits('static_requests') + hits('not_found')).toBe(50);
  expect(hits('not_found')).toBe(notFound);
  expect(hits('hosts')).toBe(50);
  expect(served.panels.status_codes.items).toEqual([
    { key: '200', hits: 50 - notFound },
    { key: '404', hits: notFound },
  ]);
  expect(served.series.reduce((n, p) => n + p.requests, 0)).toBe(50);
  expect(served.series.reduce((n, p) => n + p.status4xx, 0)).toBe(notFound);
  expect(served.series.reduce((n, p) => n + p.bytes, 0)).toBe(bandwidth);
  expect(Date.parse(served.series.at(-1)!.minute)).toBeLessThanOrEqual(Date.now());
});

it('masks addresses as GoAccess --anonymize-ip does, and counts unique visitors as it does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'anon-'));
  const log = join(dir, 'access.log');
  writeFileSync(log, `${ORDINARY.join('\n')}\n`);
  execFileSync('goaccess', [log, '--log-format=COMBINED', '--anonymize-ip', '-o', join(dir, 'report.json')], {
    stdio: 'ignore',
  });
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
    general: { unique_visitors: number };
    hosts: { data: Array<{ data: string; hits: { count: number } }> };
  };
  const expected = new Map<string, number>();
  for (const host of report.hosts.data)
    expected.set(host.data, (expected.get(host.data) ?? 0) + host.hits.count);

  const served = await stats();
  expect(new Map(served.panels.hosts.items.map((i) => [i.key, i.hits]))).toEqual(expected);
  expect(served.totals.uniqueVisitors).toBe(report.general.unique_visitors);
  // No whole address is stored in the hosts panel.
  const stored = await redis.zrange(analyticsKeys(prefix).panel('hosts'), 0, -1);
  expect(stored.filter((a) => /\.0$|::$/.test(a))).toEqual(stored);
});

const XSS = {
  path: '/<img src=x onerror="window.__xss=1">',
  referer: 'https://evil.example/"><script>window.__xss=2</script>',
  agent: '<svg onload="window.__xss=3"></svg> Mozilla/5.0',
};
/** nginx writes `"` inside a quoted field as \x22. */
const esc = (text: string) => text.replace(/"/g, '\\x22');

/** More hits than any ordinary path, so the dashboard's top ten show them. */
const XSS_HITS = 6;

it('shows script from the path, referrer and user agent as text, and never runs it', async () => {
  const xss = line('192.0.2.200', esc(XSS.path), 200, 7, esc(XSS.referer), esc(XSS.agent));
  expect(await ingest(Array<string>(XSS_HITS).fill(xss))).toMatchObject({ accepted: XSS_HITS });
  browser = await launchChromium();
  const page = await browser.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(`${offline.url}/dashboard?interval=500`);
  await page.waitForSelector(`body[data-total-requests="${50 + BYPASS + XSS_HITS}"]`, { timeout: 30000 });
  expect(await page.textContent('[data-panel="requests"]')).toContain(XSS.path);
  expect(await page.textContent('[data-panel="referring_sites"]')).toContain('evil.example');
  expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
  expect(await page.locator('main img, main script, main svg:not([id^="chart"]) ').count()).toBe(0);
  expect(dialogs).toEqual([]);
});

it('keeps the 500 ms floor between /stats calls whatever ?interval says', async () => {
  const page = await browser!.newPage();
  let calls = 0;
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.endsWith('/stats')) calls++;
  });
  await page.goto(`${offline.url}/dashboard?interval=abc`);
  await page.waitForSelector('body[data-total-requests]', { timeout: 30000 });
  const from = calls;
  const started = Date.now();
  await waitFor(() => Date.now() - started >= 3000, 'three seconds of polling', 5000);
  // The default is 2 s; a floor of 500 ms allows at most 7 calls in 3 s. Without it: hundreds.
  expect(calls - from).toBeLessThanOrEqual(7);
  await page.close();
});

it('adds no header from log text, and log text shaped like Redis keys or Lua touches no key', async () => {
  const smuggled = 'curl/8.5.0\\x0D\\x0ASet-Cookie: smuggled=1\\x0D\\x0AX-Smuggled: 1';
  const keyLike = `/${prefix}:{analytics}:totals`;
  const lua = "/') redis.call('FLUSHALL') --";
  const lines = [
    line('192.0.2.201', '/smuggle', 200, 1, '-', smuggled),
    line('192.0.2.202', keyLike, 200, 1, '-', '*'),
    line('192.0.2.203', esc(lua), 200, 1, lua, lua),
  ];
  expect(await ingest(lines)).toMatchObject({ accepted: 3, rejected: 0 });
  const served = await waitFor(
    async () => {
      const s = await stats();
      return s.totals.validRequests === 50 + XSS_HITS + 3 ? s : undefined;
    },
    'the three lines to be counted',
    30000,
  );
  const response = await fetch(`${offline.url}/stats?top=1000`);
  expect(response.headers.get('x-smuggled')).toBeNull();
  expect(response.headers.get('set-cookie')).toBeNull();
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  const page = await fetch(`${offline.url}/dashboard`);
  expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(served.panels.requests.items.map((i) => i.key)).toEqual(expect.arrayContaining([keyLike, lua]));

  // The records on the topic carry exactly the contract's headers.
  const records = await readTopic(topic, 50 + BYPASS + XSS_HITS + 3);
  const smuggledRecord = records.find((r) => r.value?.toString().includes('/smuggle'));
  expect(Object.keys(smuggledRecord!.headers ?? {}).sort()).toEqual(Object.values(HEADER).sort());

  // Only the store's own keys exist under the prefix; the key outside it is untouched.
  const keys = await redis.keys(`${analyticsKeys(prefix).base}*`);
  const own =
    /:\{analytics\}:(marks|totals|failures|panel:[a-z_]+|series:[a-z0-9]+:\d+|visitors:\d{4}-\d{2}-\d{2})$/;
  expect(keys.filter((k) => !own.test(k))).toEqual([]);
  expect(await redis.get(canary)).toBe('still here');
});
