/**
 * The analytics cannot be poisoned through the store: a flood of lines claiming 2^53-1 body bytes, then
 * ordinary lines that must all be counted (the figures of the hostile-traffic report: before the fix,
 * only 36 of the 50 ordinary lines were counted), and a line dated 31/Dec/9999 that must not pin the
 * per-minute series. Records go through the same decoder the consumers use, then into a real Redis.
 */
import { decodeRecordValue, RecordError } from '../../shared/record/contract';
import {
  analyticsKeys,
  applyBatch,
  KEEP_SECONDS,
  PANEL_KEYS,
  readStats,
  type BatchItem,
} from '../../shared/store/analytics-store';
import { COUNTER_CEILING } from '../../shared/store/apply-script';
import { deleteKeysUnder } from '../../local/redis/keys';
import { redisUnderPrefix } from '../helpers/redis-under-prefix';
import { isoNow, recordValue } from '../helpers/log-lines';

jest.setTimeout(30000);

const { prefix, redis } = redisUnderPrefix('test-poison');

/** Decodes like the consumers do: records that fail to decode become failed items with their reason. */
function items(values: string[], partition: number, from: number): BatchItem[] {
  return values.map((v, i) => {
    const delivered = { topic: 'poison', partition, offset: from + i };
    try {
      return { record: decodeRecordValue(v), delivered };
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
      return { reason: err.message, delivered };
    }
  });
}

async function applyInBatches(
  all: BatchItem[],
  size: number,
): Promise<{ applied: number; duplicates: number }> {
  let applied = 0;
  let duplicates = 0;
  for (let i = 0; i < all.length; i += size) {
    const slice = all.slice(i, i + size);
    // A batch whose apply step fails is delivered again, as Lambda's event source mapping does.
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = await applyBatch(redis, prefix, slice);
        applied += outcome.applied;
        duplicates += outcome.duplicates;
        break;
      } catch {
        if (attempt === 2) break;
      }
    }
  }
  return { applied, duplicates };
}

it('counts every ordinary line after 1,200 lines claiming 2^53-1 bytes, and the panels add up', async () => {
  const now = isoNow();
  const hostile = Array.from({ length: 1200 }, (_, i) => recordValue(i, Number.MAX_SAFE_INTEGER, now));
  const ordinary = Array.from({ length: 50 }, (_, i) => recordValue(i, 1000 + i, now));
  // One record per batch, as a client sending a line per request gets them delivered: the bandwidth
  // counter is driven to within 2^10 of Redis's 64-bit limit.
  await applyInBatches(items(hostile, 0, 0), 1);
  const outcome = await applyInBatches(items(ordinary, 0, hostile.length), 10);
  expect(outcome).toEqual({ applied: 50, duplicates: 0 });

  const stats = await readStats(redis, prefix, { top: 1000 });
  // Hand-computed: 50 ordinary lines of 1000..1049 bytes; the 1,200 hostile ones are failed records.
  expect(stats.totals.validRequests).toBe(50);
  expect(stats.totals.failedRequests).toBe(1200);
  expect(stats.totals.totalRequests).toBe(1250);
  expect(stats.totals.bandwidth).toBe(50 * 1000 + (49 * 50) / 2);
  expect(stats.panels.requests.items.reduce((n, item) => n + item.hits, 0)).toBe(50);
  expect(stats.panels.status_codes.items).toEqual([{ key: '200', hits: 50 }]);
  expect(stats.series.reduce((n, p) => n + p.requests, 0)).toBe(50);
  expect(stats.series.reduce((n, p) => n + p.bytes, 0)).toBe(stats.totals.bandwidth);
});

it('does not let a line dated 31/Dec/9999 pin the per-minute series', async () => {
  const p = `${prefix}-future`;
  const now = isoNow();
  const batch = items(
    [recordValue(1, 10, '9999-12-31T23:59:59+00:00'), recordValue(2, 20, now), recordValue(3, 30, now)],
    0,
    0,
  );
  await applyBatch(redis, p, batch);
  const stats = await readStats(redis, p, { minutes: 5 });
  expect(stats.totals.validRequests).toBe(2);
  expect(stats.totals.failedRequests).toBe(1);
  expect(stats.series).toHaveLength(5);
  expect(stats.series.reduce((n, point) => n + point.requests, 0)).toBe(2);
  expect(Date.parse(stats.series[4]!.minute)).toBeLessThanOrEqual(Date.now());
  await deleteKeysUnder(redis, p);
});

/** Records straight into the store, past the decoder: what the apply step must survive on its own. */
function raw(values: string[], partition: number, from: number): BatchItem[] {
  return values.map((v, i) => ({
    record: JSON.parse(v) as never,
    delivered: { topic: 'raw', partition, offset: from + i },
  }));
}

it('stops the bandwidth counter at its ceiling instead of failing, and keeps counting requests', async () => {
  const p = `${prefix}-ceiling`;
  const now = isoNow();
  // 600 batches of one record of 2^53-1 bytes: 600 × 2^53 is past the ceiling of 2^62 (and 1,200 would be
  // past 2^63, Redis's integer limit, where the unguarded HINCRBY fails).
  for (let i = 0; i < 600; i++) {
    await applyBatch(redis, p, raw([recordValue(i, Number.MAX_SAFE_INTEGER, now)], 0, i));
  }
  const outcome = await applyBatch(
    redis,
    p,
    raw([recordValue(1, 1000, now), recordValue(2, 1001, now)], 0, 600),
  );
  expect(outcome).toMatchObject({ applied: 2, duplicates: 0 });
  const stats = await readStats(redis, p);
  expect(stats.totals.validRequests).toBe(602);
  expect(stats.totals.bandwidth).toBe(COUNTER_CEILING);
  await deleteKeysUnder(redis, p);
});

it('writes nothing of a batch, marks included, when one of its writes cannot be applied', async () => {
  const p = `${prefix}-atomic`;
  const keys = analyticsKeys(p);
  const now = isoNow();
  await applyBatch(redis, p, raw([recordValue(1, 10, now)], 0, 0));
  // A panel key of the wrong type (an operator's mistake): ZINCRBY on it would fail part-way.
  await redis.set(keys.panel('browsers'), 'not a sorted set');
  await expect(
    applyBatch(redis, p, raw([recordValue(2, 20, now), recordValue(3, 30, now)], 0, 1)),
  ).rejects.toThrow('apply refused, nothing written');
  expect(await redis.hgetall(keys.totals)).toMatchObject({ requests: '1', bandwidth: '10' });
  expect(await redis.hget(keys.marks, 'raw-0')).toBe('0');
  // Once the key is mended, the redelivered batch is counted: nothing of it was lost as a "duplicate".
  await redis.del(keys.panel('browsers'));
  expect(
    await applyBatch(redis, p, raw([recordValue(2, 20, now), recordValue(3, 30, now)], 0, 1)),
  ).toMatchObject({
    applied: 2,
    duplicates: 0,
  });
  expect(await redis.hgetall(keys.totals)).toMatchObject({ requests: '3', bandwidth: '60' });
  await deleteKeysUnder(redis, p);
});

it('bounds every structure: panels keep their top keys, series and visitor sets expire', async () => {
  const p = `${prefix}-bounds`;
  const keys = analyticsKeys(p);
  const now = isoNow();
  const many = Array.from({ length: PANEL_KEYS + 50 }, (_, i) => recordValue(i, 1, now));
  await applyBatch(redis, p, raw(many, 0, 0));
  expect(await redis.zcard(keys.panel('requests'))).toBe(PANEL_KEYS);
  const seriesKeys = await redis.keys(`${keys.base}series:*`);
  expect(seriesKeys.length).toBeGreaterThan(0);
  const visitorKeys = await redis.keys(`${keys.base}visitors:*`);
  expect(visitorKeys).toHaveLength(1);
  for (const key of [...seriesKeys, ...visitorKeys]) {
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(KEEP_SECONDS + 3600);
  }
  const stats = await readStats(redis, p);
  expect(stats.totals.uniqueVisitors).toBe(250);
  expect(stats.series.reduce((n, point) => n + point.requests, 0)).toBe(PANEL_KEYS + 50);
  await deleteKeysUnder(redis, p);
  expect(await redis.keys(`${keys.base}*`)).toEqual([]);
});
