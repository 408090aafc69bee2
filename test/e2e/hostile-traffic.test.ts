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
 * - The main stack runs with HTTP_AUTH=on, so serverless offline puts the read authorizer in front of GET /stats
 *   and /dashboard: no token is answered 401 saying what to send, a wrong one 403, the token as a header or
 *   as the cookie 200, and the dashboard in Chromium loads its data with the cookie. POST /ingest stays open
 *   (serverless offline cannot check SigV4). CORS answers the one listed origin only. A second stack with
 *   the defaults (auth off, no origin listed) serves both routes without a token and no origin CORS headers.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import type { RunningOffline } from '../../lab/demo/offline';
import { loadConfig } from '../../shared/config';
import { READ_TOKEN_COOKIE } from '../../shared/http/read-token';
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

/** The read token of this run, and the one origin CORS allows. */
const READ_TOKEN = randomBytes(32).toString('hex');
const LISTED_ORIGIN = 'http://ops.example:8080';
const READ = { authorization: `Bearer ${READ_TOKEN}` };

const canary = uniqueName('hostile-canary');
let stack: AnalyticsStack;
let offline: RunningOffline;
let browser: Browser | undefined;
let redis: Redis;
let topic: string;
let deadLetterTopic: string;
let prefix: string;

beforeAll(async () => {
  stack = await startAnalyticsStack('hostile', {
    ANONYMIZE_IP: 'true',
    HTTP_AUTH: 'on',
    READ_TOKEN,
    CORS_ORIGINS: LISTED_ORIGIN,
  });
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
  const response = await fetch(`${offline.url}/stats${query}`, { headers: READ });
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

/** A page in a browser context that holds the read token as its cookie, as a browser user sets it. */
async function readerPage(): Promise<Page> {
  browser ??= await launchChromium();
  const context = await browser.newContext();
  await context.addCookies([{ name: READ_TOKEN_COOKIE, value: READ_TOKEN, url: offline.url }]);
  return context.newPage();
}

it('shows script from the path, referrer and user agent as text, and never runs it', async () => {
  const xss = line('192.0.2.200', esc(XSS.path), 200, 7, esc(XSS.referer), esc(XSS.agent));
  expect(await ingest(Array<string>(XSS_HITS).fill(xss))).toMatchObject({ accepted: XSS_HITS });
  const page = await readerPage();
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
  const page = await readerPage();
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
  const response = await fetch(`${offline.url}/stats?top=1000`, { headers: READ });
  expect(response.headers.get('x-smuggled')).toBeNull();
  expect(response.headers.get('set-cookie')).toBeNull();
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  const page = await fetch(`${offline.url}/dashboard`, { headers: READ });
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

describe('the read authorizer under serverless offline (HTTP_AUTH=on)', () => {
  const read = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${offline.url}${path}`, { headers });

  it('answers GET /stats and /dashboard without a token 401, saying what to send; the route serves nothing', async () => {
    for (const path of ['/stats?top=1', '/dashboard']) {
      const response = await read(path);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      const { error } = (await response.json()) as { error: string };
      expect(error).toContain('Authorization: Bearer <token>');
      expect(error).toContain(`${READ_TOKEN_COOKIE}=<token>`);
      expect(error).not.toMatch(/totals|<html|at .*\.js/);
    }
  });

  it('refuses a wrong token, in the header or the cookie, before the route runs', async () => {
    const wrong = randomBytes(32).toString('hex');
    const before = offline.lines.length;
    for (const path of ['/stats?top=1', '/dashboard']) {
      const wrongs: Record<string, string>[] = [
        { authorization: `Bearer ${wrong}` },
        { cookie: `${READ_TOKEN_COOKIE}=${wrong}` },
      ];
      for (const headers of wrongs) {
        const response = await read(path, headers);
        expect(response.status).toBe(403);
        expect(await response.text()).not.toContain('totals');
      }
    }
    // The authorizer function ran (the same one AWS runs) and said why, once per request.
    await waitFor(
      () =>
        offline.lines.slice(before).filter((l) => l.includes('"msg":"read-authorizer.refused"')).length === 4,
      'the read authorizer to log its four refusals',
      10000,
    );
    // A token of the right length that is the real one with a character changed is refused too.
    const near = READ_TOKEN.slice(0, -1) + (READ_TOKEN.endsWith('0') ? '1' : '0');
    expect((await read('/stats?top=1', { authorization: `Bearer ${near}` })).status).toBe(403);
  });

  it('serves the token presented as a header or as the cookie, among other cookies', async () => {
    for (const headers of [READ, { cookie: `theme=dark; ${READ_TOKEN_COOKIE}=${READ_TOKEN}; lang=en` }]) {
      const stats = await read('/stats?top=1', headers);
      expect(stats.status).toBe(200);
      expect(((await stats.json()) as TrafficStats).totals.validRequests).toBeGreaterThanOrEqual(50);
      const page = await read('/dashboard', headers);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
    }
  });

  it('in a browser without the cookie the dashboard says what to send; with it, it loads its data', async () => {
    browser ??= await launchChromium();
    const stranger = await browser.newPage();
    const answer = await stranger.goto(`${offline.url}/dashboard`);
    expect(answer?.status()).toBe(401);
    expect(await stranger.textContent('body')).toContain(`${READ_TOKEN_COOKIE}=<token>`);
    await stranger.close();

    const reader = await readerPage();
    const calls: number[] = [];
    reader.on('response', (r) => {
      if (new URL(r.url()).pathname.endsWith('/stats')) calls.push(r.status());
    });
    await reader.goto(`${offline.url}/dashboard?interval=500`);
    await reader.waitForSelector('body[data-total-requests]', { timeout: 30000 });
    expect(Number(await reader.getAttribute('body', 'data-total-requests'))).toBeGreaterThanOrEqual(50);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((status) => status === 200)).toBe(true);
    await reader.close();
  });

  it('leaves POST /ingest open locally (serverless offline cannot check SigV4)', async () => {
    expect(await ingest([line('192.0.2.250', '/open-write', 200, 1)])).toMatchObject({ accepted: 1 });
  });
});

describe('CORS: the listed origin only, never with credentials', () => {
  const FOREIGN = 'https://evil.example';
  const cors = (response: Response) => ({
    origin: response.headers.get('access-control-allow-origin'),
    credentials: response.headers.get('access-control-allow-credentials'),
  });
  const preflight = (origin: string, path: string, method: string) =>
    fetch(`${offline.url}${path}`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': method,
        'access-control-request-headers': 'authorization,content-type',
      },
    });

  it('sends no CORS header to an origin not on the list, on a preflight or the request itself', async () => {
    for (const [path, method] of [
      ['/stats', 'GET'],
      ['/dashboard', 'GET'],
      ['/ingest', 'POST'],
    ] as const) {
      expect(cors(await preflight(FOREIGN, path, method))).toEqual({ origin: null, credentials: null });
    }
    expect(
      cors(await fetch(`${offline.url}/stats?top=1`, { headers: { ...READ, origin: FOREIGN } })),
    ).toEqual({
      origin: null,
      credentials: null,
    });
    const write = await fetch(`${offline.url}/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: FOREIGN },
      body: `${line('192.0.2.251', '/cors', 200, 1)}\n`,
    });
    expect(write.status).toBe(200);
    expect(cors(write)).toEqual({ origin: null, credentials: null });
  });

  it('answers the listed origin with that origin, without credentials', async () => {
    const allowed = await preflight(LISTED_ORIGIN, '/stats', 'GET');
    expect(cors(allowed)).toEqual({ origin: LISTED_ORIGIN, credentials: null });
    expect(allowed.headers.get('access-control-allow-headers')).toContain('Authorization');
    const response = await fetch(`${offline.url}/stats?top=1`, {
      headers: { ...READ, origin: LISTED_ORIGIN },
    });
    expect(response.status).toBe(200);
    expect(cors(response)).toEqual({ origin: LISTED_ORIGIN, credentials: null });
  });
});

describe('the defaults: auth off, no CORS origin listed', () => {
  let open: AnalyticsStack;

  beforeAll(async () => {
    // Its own topics and store prefix, so its consumer groups never join the main stack's.
    open = await startAnalyticsStack('defaults', { HTTP_AUTH: 'off', READ_TOKEN: '', CORS_ORIGINS: '' });
  });

  afterAll(async () => {
    expect(await open.stop()).toBe(0);
  });

  it('serves /stats and /dashboard without a token, and answers no origin with CORS headers', async () => {
    const { url } = open.offline;
    expect((await fetch(`${url}/stats?top=1`)).status).toBe(200);
    expect((await fetch(`${url}/dashboard`)).status).toBe(200);
    const foreign = { origin: 'http://localhost:8080' };
    const responses = [
      await fetch(`${url}/stats?top=1`, { headers: foreign }),
      await fetch(`${url}/stats`, {
        method: 'OPTIONS',
        headers: { ...foreign, 'access-control-request-method': 'GET' },
      }),
      await fetch(`${url}/ingest`, {
        method: 'OPTIONS',
        headers: { ...foreign, 'access-control-request-method': 'POST' },
      }),
    ];
    for (const response of responses) {
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });
});
