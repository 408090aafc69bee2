/**
 * Integration tests talk to the real broker (started by global-setup when none runs). Every test makes its
 * own topics and groups with unique names, so tests never see each other's records.
 */
import type { Admin, Kafka } from 'kafkajs';
import { loadConfig } from '../../shared/config';
import { createKafka } from '../../shared/kafka/client';

// Reading a topic, naming topics and groups: the package's helpers, the same broker (KAFKA_BROKERS).
export {
  header,
  readTopic,
  uniqueName,
  type ReadMessage,
} from '../../packages/serverless-offline-kafka/test/helpers/kafka';

export const brokers = (): string[] => loadConfig().brokers;

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
