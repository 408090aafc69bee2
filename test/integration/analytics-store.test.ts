/**
 * The panels in a real Redis: what the store serves equals the in-memory fold, and a batch delivered again
 * (whole, in part, or by two writers at once) is counted once.
 */
import Redis from 'ioredis';
import { TrafficFold } from '../../shared/analytics/fold';
import { statsFromFold } from '../../shared/analytics/stats';
import { parseCombined } from '../../shared/nginx/combined';
import { applyBatch, clearStore, readStats, type BatchItem } from '../../shared/store/analytics-store';
import { createRedis } from '../../shared/store/redis';
import { fixtureLines } from '../helpers/fixtures';
import { uniqueName } from '../helpers/kafka';

const prefix = uniqueName('test-store');
let redis: Redis;
let other: Redis;

beforeAll(() => {
  redis = createRedis();
  other = createRedis();
});

afterAll(async () => {
  await clearStore(redis, prefix);
  await Promise.all([redis.quit(), other.quit()]);
});

const lines = fixtureLines('nginx/real-nginx-1.22.log');

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
 * Totals and panels; the per-minute series is windowed to now and the fixture is older than the kept
 * window, so series are checked in analytics-poison.test.ts with lines dated now.
 */
function expected(batch: BatchItem[]) {
  const fold = new TrafficFold();
  for (const item of batch) if ('record' in item) fold.add(item.record);
  return { ...statsFromFold(fold, { now: new Date(0) }), series: [] };
}

const stats = async (p = prefix) => ({ ...(await readStats(redis, p, { now: new Date(0) })), series: [] });

it('serves what the in-memory fold computes', async () => {
  const p = `${prefix}-fold`;
  const batch = items('t1');
  expect(await applyBatch(redis, p, batch)).toMatchObject({ applied: 16, duplicates: 0 });
  expect(await stats(p)).toEqual(expected(batch));
  await clearStore(redis, p);
});

it('counts a redelivered batch, or a batch that overlaps one already applied, once', async () => {
  const first = items('t2', 0, 10);
  await applyBatch(redis, prefix, first);
  expect(await applyBatch(redis, prefix, first)).toMatchObject({ applied: 0, duplicates: 10 });
  // offsets 6..15 of the same stream: 6..9 were applied already
  const overlapping = items('t2', 6, 10);
  expect(await applyBatch(redis, prefix, overlapping)).toMatchObject({ applied: 6, duplicates: 4 });
  expect(await stats()).toEqual(expected(items('t2', 0, 16)));
});

it('counts a batch once when two writers apply it at the same time', async () => {
  const p = `${prefix}-race`;
  const batch = items('t3');
  const outcomes = await Promise.all([applyBatch(redis, p, batch), applyBatch(other, p, batch)]);
  expect(outcomes.map((o) => o.applied).sort()).toEqual([0, 16]);
  expect((await stats(p)).totals.validRequests).toBe(16);
  await clearStore(redis, p);
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
  await clearStore(redis, p);
});
