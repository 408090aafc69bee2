/**
 * The panels in a real Redis: what the store serves equals the panels counted by hand for the same lines
 * (test/fixtures/nginx/hand-counted.json), and a batch delivered again (whole, in part, or by two writers at
 * once) is counted once.
 */
import Redis from 'ioredis';
import { parseCombined } from '../../shared/nginx/combined';
import { applyBatch, readStats, type BatchItem } from '../../shared/store/analytics-store';
import { createRedis } from '../../shared/store/redis';
import { fixtureLines } from '../helpers/fixtures';
import { uniqueName } from '../helpers/kafka';
import { handCounted, panelCounts } from '../helpers/panel-counts';
import { deleteKeysUnder } from '../../local/redis/keys';

const prefix = uniqueName('test-store');
let redis: Redis;
let other: Redis;

beforeAll(() => {
  redis = createRedis();
  other = createRedis();
});

afterAll(async () => {
  await deleteKeysUnder(redis, prefix);
  await Promise.all([redis.quit(), other.quit()]);
});

const lines = fixtureLines('nginx/hand-counted.log');
const counted = handCounted('nginx/hand-counted.json');

/** The fixture's lines as records on partitions 0 and 1 of a topic, offsets counting from `from`. */
function items(topic: string, from = 0, count = lines.length): BatchItem[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    const parsed = parseCombined(lines[n % lines.length]!);
    if (!parsed.ok) throw new Error(parsed.reason);
    return { record: parsed.record, delivered: { topic, partition: n % 2, offset: Math.floor(n / 2) } };
  });
}

/**
 * Totals and panels. The per-minute series is windowed to now and the fixture is older than the kept
 * window, so series are checked in analytics-poison.test.ts with lines dated now.
 */
const stats = (p = prefix) => readStats(redis, p, { now: new Date(0), top: 100 });

/** The store's answer equals the hand-counted one for the whole fixture. */
async function expectHandCounted(p: string): Promise<void> {
  const served = await stats(p);
  expect(served.totals).toEqual(counted.totals);
  expect(panelCounts(served)).toEqual(counted.panels);
}

it('serves the panels counted by hand for the same lines', async () => {
  const p = `${prefix}-fold`;
  const batch = items('t1');
  expect(await applyBatch(redis, p, batch)).toMatchObject({ applied: lines.length, duplicates: 0 });
  await expectHandCounted(p);
});

it('counts a redelivered batch, or a batch that overlaps one already applied, once', async () => {
  const p = `${prefix}-again`;
  const first = items('t2', 0, 6);
  await applyBatch(redis, p, first);
  expect(await applyBatch(redis, p, first)).toMatchObject({ applied: 0, duplicates: 6 });
  // offsets 4..9 of the same stream: 4 and 5 were applied already
  const overlapping = items('t2', 4, 6);
  expect(await applyBatch(redis, p, overlapping)).toMatchObject({ applied: 4, duplicates: 2 });
  await expectHandCounted(p);
});

it('counts a batch once when two writers apply it at the same time', async () => {
  const p = `${prefix}-race`;
  const batch = items('t3');
  const outcomes = await Promise.all([applyBatch(redis, p, batch), applyBatch(other, p, batch)]);
  expect(outcomes.map((o) => o.applied).sort((a, b) => a - b)).toEqual([0, lines.length]);
  await expectHandCounted(p);
});

it('counts records that failed to decode apart from the panels, once', async () => {
  const p = `${prefix}-failed`;
  const bad: BatchItem[] = [
    { reason: 'value is not JSON', delivered: { topic: 't4', partition: 0, offset: 0 } },
    { reason: 'value is not JSON', delivered: { topic: 't4', partition: 0, offset: 1 } },
  ];
  await applyBatch(redis, p, [...bad, ...items('t4', 4, 2)]);
  await applyBatch(redis, p, bad);
  const s = await stats(p);
  expect(s.totals).toMatchObject({ totalRequests: 4, validRequests: 2, failedRequests: 2 });
});
