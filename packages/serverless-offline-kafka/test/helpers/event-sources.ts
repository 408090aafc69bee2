/**
 * For test files that drive the local Kafka event source: one connected producer for the file, and every
 * source a test starts, stopped after that test so the next one starts clean.
 */
import type { Producer } from 'kafkajs';
import { testKafka } from './kafka';

/** What the fixture needs of an event source (serverless-offline-kafka's KafkaEventSource). */
interface Stoppable {
  stop(): Promise<void>;
}

export function eventSourceFixture<S extends Stoppable>(): { sources: S[]; producer: () => Producer } {
  const sources: S[] = [];
  let producer: Producer | undefined;
  beforeAll(async () => {
    producer = testKafka().producer();
    await producer.connect();
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
  });
  afterAll(async () => {
    await producer?.disconnect();
  });
  return {
    sources,
    producer: () => {
      if (!producer) throw new Error('the producer connects in beforeAll');
      return producer;
    },
  };
}
