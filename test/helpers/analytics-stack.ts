/**
 * The analytics stack for an end-to-end test: its own topics (log, dead letters, alerts), its own Redis key
 * prefix, and serverless offline running every function against them.
 */
import type Redis from 'ioredis';
import type { RunningOffline } from '../../lab/demo/offline';
import { deleteKeysUnder } from '../../local/redis/keys';
import { createRedis } from '../../shared/store/redis';
import { createTopics, uniqueName } from './kafka';
import { startTestOffline } from './offline';

export interface AnalyticsStack {
  topic: string;
  deadLetterTopic: string;
  alertsTopic: string;
  prefix: string;
  offline: RunningOffline;
  redis: Redis;
  /** Stops serverless offline, clears the prefix's keys; resolves with offline's exit code. */
  stop(): Promise<number | null>;
}

export async function startAnalyticsStack(
  name: string,
  env: NodeJS.ProcessEnv = {},
): Promise<AnalyticsStack> {
  const topic = uniqueName(name);
  const deadLetterTopic = `${topic}-dlq`;
  const alertsTopic = `${topic}-alerts`;
  const prefix = `test-${topic}`;
  const redis = createRedis();
  await createTopics([
    { topic, partitions: 3 },
    { topic: deadLetterTopic, partitions: 1 },
    { topic: alertsTopic, partitions: 1 },
  ]);
  const offline = await startTestOffline({
    topic,
    deadLetterTopic,
    env: { KAFKA_ALERTS_TOPIC: alertsTopic, ANALYTICS_PREFIX: prefix, ...env },
  });
  return {
    topic,
    deadLetterTopic,
    alertsTopic,
    prefix,
    offline,
    redis,
    async stop() {
      const code = await offline.stop();
      await deleteKeysUnder(redis, prefix);
      await redis.quit();
      return code;
    },
  };
}
