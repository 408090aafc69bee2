/**
 * Integration and end-to-end tests need a real broker: use KAFKA_BROKERS if set, reuse a broker that
 * answers, or start the project's local one (and have global-teardown stop it again).
 * The same for Redis: REDIS_URL (or 127.0.0.1 on LOCAL_REDIS_PORT) if it answers, else the project's own.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultBrokerOptions, kafkaAnswers, startBroker } from '../../local/kafka/launcher';
import { defaultRedisOptions, startRedis } from '../../local/redis/launcher';

/**
 * Left in the broker's own folder when the tests started it, named by its port and holding the pid of the
 * jest process that started it: a run on another port, from another folder, or beside the run that started
 * it never stops a broker it only reused.
 */
export function startedMarker(): string {
  const { dir, port } = defaultBrokerOptions();
  return join(dir, `started-by-tests-${port}`);
}

export function redisStartedMarker(): string {
  const { dir, url } = defaultRedisOptions();
  return join(dir, `started-by-tests-${new URL(url).port || '6379'}`);
}

async function kafka(): Promise<void> {
  if (process.env.KAFKA_BROKERS) return;
  const options = defaultBrokerOptions();
  const brokers = [`127.0.0.1:${options.port}`];
  // Tests, and the serverless offline processes they start, all read KAFKA_BROKERS.
  process.env.KAFKA_BROKERS = brokers.join(',');
  if (await kafkaAnswers(brokers)) return;
  console.log('\nStarting the local Kafka broker for the integration tests...');
  await startBroker({ ...options, say: (line) => console.log(line) }, {});
  mkdirSync(options.dir, { recursive: true });
  writeFileSync(startedMarker(), String(process.pid));
}

async function redis(): Promise<void> {
  const options = defaultRedisOptions();
  // Tests, and the serverless offline processes they start, all read REDIS_URL.
  process.env.REDIS_URL = options.url;
  const started = await startRedis({ ...options, say: (line) => console.log(`\n${line}`) });
  if (started.how === 'started') {
    mkdirSync(options.dir, { recursive: true });
    writeFileSync(redisStartedMarker(), String(process.pid));
  }
}

export default async function globalSetup(): Promise<void> {
  await kafka();
  await redis();
}
