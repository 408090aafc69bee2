/** Cleaning up after a test that wrote under its own Redis key prefix. */
import type Redis from 'ioredis';

/** Deletes every key whose name starts with `prefix` (one a test made unique), found by SCAN. */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}
