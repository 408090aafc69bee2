/** Removing what a run wrote under its own Redis key prefix (a test's, or a benchmark run's). */
import type Redis from 'ioredis';

/** Deletes every key whose name starts with `prefix` (one the run made unique), found by SCAN. */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}
