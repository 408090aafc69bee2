/**
 * For test files that drive the local Kafka event source: one connected producer for the file, and every
 * source a test starts, stopped after that test so the next one starts clean.
 */
import type { Producer } from 'kafkajs';
import type { KafkaEventSource } from '../../offline-kafka-events/kafka-event-source';
import { testKafka } from './kafka';

export function eventSourceFixture(): { sources: KafkaEventSource[]; producer: () => Producer } {
  const sources: KafkaEventSource[] = [];
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
