/**
 * Integration tests talk to the real broker (started by global-setup when none runs). Every test makes its
 * own topics and groups with unique names, so tests never see each other's records.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { loadConfig } from '../../shared/config';
import { createKafka } from '../../shared/kafka/client';
import { waitFor } from './wait';

export const brokers = (): string[] => loadConfig().brokers;

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function testKafka(on: string[] = brokers()): Kafka {
  return createKafka({ brokers: on, clientId: 'tests' });
}

/** An admin client of the test broker (or of the brokers `on`), disconnected after the work. */
export async function withAdmin<T>(work: (admin: Admin) => Promise<T>, on?: string[]): Promise<T> {
  const admin = testKafka(on).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Topics of 3 partitions unless said otherwise, on the test broker or on the brokers `on`. */
export async function createTopics(
  specs: Array<{ topic: string; partitions?: number }>,
  on?: string[],
): Promise<void> {
  await withAdmin(
    (admin) =>
      admin.createTopics({
        topics: specs.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions ?? 3,
          replicationFactor: 1,
        })),
        waitForLeaders: true,
      }),
    on,
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
