/** A test file's Redis connection and the unique key prefix it writes under, both cleaned up after the file. */
import type Redis from 'ioredis';
import { deleteKeysUnder } from '../../local/redis/keys';
import { createRedis } from '../../shared/store/redis';
import { uniqueName } from './kafka';

export function redisUnderPrefix(name: string): { prefix: string; redis: Redis } {
  const prefix = uniqueName(name);
  const redis = createRedis();
  afterAll(async () => {
    await deleteKeysUnder(redis, prefix);
    await redis.quit();
  });
  return { prefix, redis };
}
