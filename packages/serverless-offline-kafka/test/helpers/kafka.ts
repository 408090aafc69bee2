/**
 * The package's tests talk to a real broker: KAFKA_BROKERS, or 127.0.0.1:9092. Every test makes its own
 * topics and groups with unique names, so tests never see each other's records.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Kafka, logLevel, type Admin, type KafkaMessage } from 'kafkajs';
import { kcatReadArgs } from '../../bench/kcat';
import { waitFor } from './wait';

const run = promisify(execFile);

export const brokers = (): string[] =>
  (process.env.KAFKA_BROKERS || '127.0.0.1:9092')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function testKafka(on: string[] = brokers()): Kafka {
  return new Kafka({
    clientId: 'tests',
    brokers: on,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    retry: { initialRetryTime: 300, maxRetryTime: 30000, retries: 8 },
    logLevel: logLevel.NOTHING,
  });
}

/** An admin client of the test broker, disconnected after the work. */
export async function withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Topics of 3 partitions unless said otherwise. */
export async function createTopics(specs: Array<{ topic: string; partitions?: number }>): Promise<void> {
  await withAdmin((admin) =>
    admin.createTopics({
      topics: specs.map((s) => ({ topic: s.topic, numPartitions: s.partitions ?? 3, replicationFactor: 1 })),
      waitForLeaders: true,
    }),
  );
}

export type ReadMessage = KafkaMessage & { partition: number };

/** Reads a topic from the beginning in a fresh group until `expected` records arrived (or the deadline). */
export async function readTopic(topic: string, expected: number, timeoutMs = 30000): Promise<ReadMessage[]> {
  const consumer = testKafka().consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  const seen: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        seen.push({ ...message, partition });
      },
    });
    await waitFor(
      () => seen.length >= expected,
      `${expected} records on ${topic} (have ${seen.length})`,
      timeoutMs,
    );
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

export function header(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value[0] : value)?.toString();
}

/** How many records a reader of the topic gets, counted by kcat reading it to its end (read_committed). */
export async function countRecords(topic: string): Promise<number> {
  const { stdout } = await run(
    'kcat',
    kcatReadArgs(brokers(), topic, '-X', 'isolation.level=read_committed', '-f', '%o\n'),
    { maxBuffer: 64 * 1024 * 1024, timeout: 60000 },
  );
  return stdout.split('\n').filter(Boolean).length;
}
