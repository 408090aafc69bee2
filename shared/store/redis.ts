/**
 * The Redis connection every function shares: one per Lambda container (per process locally), made on first
 * use from REDIS_URL and reused by warm invocations. On AWS, REDIS_URL names an Amazon ElastiCache (Redis
 * OSS / Valkey) or MemoryDB endpoint (`rediss://` for TLS).
 */
import Redis from 'ioredis';
import { logger } from '../log';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export function redisUrl(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.REDIS_URL || DEFAULT_REDIS_URL;
  if (!/^rediss?:\/\//.test(url)) {
    throw new Error(
      `REDIS_URL must start with redis:// or rediss:// (example: ${DEFAULT_REDIS_URL}), not ${url}`,
    );
  }
  return url;
}

export function createRedis(url = redisUrl()): Redis {
  return new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    // Store trouble: a few retries with backoff, then the invocation fails loudly and the batch is retried.
    maxRetriesPerRequest: 3,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}

let shared: Redis | undefined;

export function sharedRedis(): Redis {
  if (!shared) {
    shared = createRedis();
    shared.on('error', (err: Error) => logger.warn('redis.error', { error: err }));
  }
  return shared;
}

/** For `sls invoke local`, tests and CLIs that own the process. */
export async function disconnectSharedRedis(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (current) await current.quit().catch(() => current.disconnect());
}

/** As the Kafka producer: `serverless invoke local` (IS_LOCAL) must leave no open connection behind. */
export async function endOfRedisInvocation(): Promise<void> {
  if (process.env.IS_LOCAL === 'true') await disconnectSharedRedis();
}

/** A consumer handler that ends every invocation with {@link endOfRedisInvocation}, whatever the outcome. */
export function releasingRedis<A extends unknown[], R>(
  work: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await work(...args);
    } finally {
      await endOfRedisInvocation();
    }
  };
}
