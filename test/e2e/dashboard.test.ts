/**
 * Analytics, alerts, stats and the dashboard as a user runs them: serverless offline with the local Kafka
 * event source, lines POSTed to /ingest, the panels read back from GET /stats (equal to the panels counted
 * by hand for the same lines), a scanner alert on the alerts topic, and the dashboard page in a real headless
 * Chromium updating while more traffic arrives (screenshot in test-artifacts/).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { RunningOffline } from '../../lab/demo/offline';
import type { TrafficStats } from '../../shared/analytics/stats';
import { createProducer } from '../../shared/kafka/producer';
import { loadConfig } from '../../shared/config';
import { DLQ_HEADER } from '../../shared/record/contract';
import { ROOT, fixtureLines } from '../helpers/fixtures';
import { startAnalyticsStack, type AnalyticsStack } from '../helpers/analytics-stack';
import { launchChromium } from '../helpers/browser';
import { header, readTopic } from '../helpers/kafka';
import { timeLocal } from '../helpers/log-lines';
import { handCounted, panelCounts, seriesSums, type HandCounted } from '../helpers/panel-counts';
import { waitFor } from '../helpers/wait';

jest.setTimeout(180000);

const ARTIFACTS = join(ROOT, 'test-artifacts');
let stack: AnalyticsStack;
let offline: RunningOffline;
let browser: Browser | undefined;

beforeAll(async () => {
  stack = await startAnalyticsStack('dash', { ALERT_SCAN_MIN: '5' });
  offline = stack.offline;
});

afterAll(async () => {
  await browser?.close();
  expect(await stack.stop()).toBe(0);
});

const at = new Date();
const now = timeLocal(at);
const scannerPaths = ['/wp-login.php', '/.env', '/.git/config', '/xmlrpc.php', '/wp-admin/', '/phpmyadmin/'];
const scanner = scannerPaths.map(
  (path) => `198.51.100.7 - - [${now}] "GET ${path} HTTP/1.1" 404 153 "-" "Mozilla/5.0 zgrab/0.x"`,
);
const firstLines = [...fixtureLines('nginx/hand-counted.log'), ...scanner];
const moreLines = [...Array(7)].map(
  (_, i) =>
    `2001:db8::${i + 1} - - [${now}] "GET /live/${i} HTTP/2.0" ${i % 2 ? 503 : 200} 100 "https://ref.example/" "curl/8.5.0"`,
);

/**
 * The panels counted by hand: those of hand-counted.log (its JSON beside it), the six scanner lines (six
 * 404s of 153 bytes from one client whose agent names no browser or system, never a visitor), and the one
 * record that is not JSON (failed).
 */
function expectedFirst(): HandCounted {
  const { totals, panels, series } = handCounted('nginx/hand-counted.json');
  const hour = String(at.getUTCHours()).padStart(2, '0');
  const add = (counts: Record<string, number>, key: string, by: number) => {
    counts[key] = (counts[key] ?? 0) + by;
  };
  for (const path of scannerPaths) add(panels.not_found, `GET HTTP/1.1 ${path}`, 1);
  add(panels.hosts, '198.51.100.7', 6);
  add(panels.os, 'Unknown', 6);
  add(panels.browsers, 'Unknown', 6);
  add(panels.visit_time, hour, 6);
  add(panels.status_codes, '404', 6);
  return {
    totals: {
      totalRequests: totals.totalRequests + 6 + 1,
      validRequests: totals.validRequests + 6,
      failedRequests: 1,
      uniqueVisitors: totals.uniqueVisitors,
      bandwidth: totals.bandwidth + 6 * 153,
    },
    panels,
    series: {
      requests: series.requests + 6,
      status4xx: series.status4xx + 6,
      status5xx: series.status5xx,
      bytes: series.bytes + 6 * 153,
    },
  };
}

const stats = async (query = ''): Promise<TrafficStats> => {
  const response = await fetch(`${offline.url}/stats${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as TrafficStats;
};

const ingest = async (lines: string[]) => {
  const response = await fetch(`${offline.url}/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: `${lines.join('\n')}\n`,
  });
  expect(await response.json()).toMatchObject({ accepted: lines.length, rejected: 0 });
};

it('serves the panels of the stream, equal to those counted by hand for the same lines, and counts bad records', async () => {
  await ingest(firstLines);
  // A record no producer of the project would write: counted as failed, and dead-lettered with its reason.
  const producer = createProducer(loadConfig());
  await producer.connect();
  await producer.send({ topic: stack.topic, messages: [{ key: 'x', value: 'not json at all' }] });
  await producer.disconnect();

  const total = firstLines.length + 1;
  const served = await waitFor(
    async () => {
      const s = await stats('?top=100');
      return s.totals.totalRequests === total ? s : undefined;
    },
    `GET /stats to count ${total} records`,
    60000,
  );
  const expected = expectedFirst();
  expect(served.totals).toEqual(expected.totals);
  expect(panelCounts(served)).toEqual(expected.panels);
  // Over the minutes since the fixture's newest line (12 Nov 2024), only the scanner's lines fall in the hour.
  expect(seriesSums(served)).toEqual({ requests: 6, status4xx: 6, status5xx: 0, bytes: 6 * 153 });

  const letters = await readTopic(stack.deadLetterTopic, 1);
  expect(letters.some((l) => header(l, DLQ_HEADER.reason) === 'value is not JSON')).toBe(true);
});

it('publishes one scanner alert for the client probing wp-login.php and .env', async () => {
  const [alert] = await readTopic(stack.alertsTopic, 1);
  expect(JSON.parse(alert!.value!.toString())).toMatchObject({
    kind: 'scanner',
    client: '198.51.100.7',
    notFoundOnScannerPaths: scanner.length,
  });
  // Logged as a structured line, without the client's address (personal data stays on the alerts topic).
  const logged = offline.lines.filter((l) => l.includes('"msg":"alert"') && l.includes('"kind":"scanner"'));
  expect(logged).toHaveLength(1);
  expect(logged[0]).not.toContain('198.51.100.7');
});

it('answers a bad query with 400 and a reason', async () => {
  const response = await fetch(`${offline.url}/stats?top=lots`);
  expect(response.status).toBe(400);
  expect(await response.json()).toEqual({
    error: 'query parameter top must be a whole number from 1 to 1000, not "lots"',
  });
});

it('shows a dashboard in a real browser that updates while traffic arrives', async () => {
  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  const outside: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(offline.url)) outside.push(r.url());
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await page.goto(`${offline.url}/dashboard?interval=500`);
  const before = firstLines.length + 1;
  await page.waitForSelector(`body[data-total-requests="${before}"]`, { timeout: 30000 });
  expect(await page.textContent('[data-total="uniqueVisitors"] .value')).toBe(
    String(expectedFirst().totals.uniqueVisitors),
  );
  expect(await page.textContent('[data-panel="not_found"]')).toContain('/wp-login.php');
  expect(await page.locator('#chart-requests polyline[data-series="requests"]').count()).toBe(1);

  await ingest(moreLines);
  await page.waitForSelector(`body[data-total-requests="${before + moreLines.length}"]`, { timeout: 60000 });
  // 7 hosts before, 6 new ones (2001:db8::5 was one already); the panel lists the top 10.
  const hosts = await page.textContent('[data-panel="hosts"]');
  expect(hosts).toContain('Visitor hosts (13)');
  expect(hosts).toContain('2001:db8::7');
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  expect(errors).toEqual([]);
  expect(outside).toEqual([]);
});
