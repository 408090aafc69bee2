import type { Message } from 'kafkajs';
import { keyPartition } from '../../../../shared/kafka/partitioner';
import {
  batchBudget,
  checkAnswered,
  onePartitionEach,
  planSends,
  recordBytes,
  RecordTooLargeError,
  type TopicShape,
  UnansweredPartitionsError,
} from '../../../../shared/kafka/send-plan';

const message = (key: string, bytes: number): Message => ({
  key,
  value: 'v'.repeat(bytes),
  headers: { source: 'test' },
});

const shapes = (entries: Record<string, TopicShape>) => new Map(Object.entries(entries));

describe('planSends', () => {
  it('puts every record on its key’s partition, once, in order per partition', () => {
    const messages = Array.from({ length: 3000 }, (_, i) => ({
      ...message(`10.0.0.${i % 7}`, 100),
      value: String(i),
    }));
    const plan = planSends(
      [{ topic: 't', messages }],
      shapes({ t: { partitions: 3, maxMessageBytes: 1048588 } }),
      500,
    );
    const sent = plan.flatMap((request) => request.flatMap((t) => t.messages));
    expect(sent.map((m) => Number(m.value)).sort((a, b) => a - b)).toEqual(messages.map((_, i) => i));
    for (const m of sent) expect(m.partition).toBe(keyPartition(m.key as string, 3));
    const perPartition = new Map<number, number[]>();
    for (const m of sent)
      perPartition.set(m.partition!, [...(perPartition.get(m.partition!) ?? []), Number(m.value)]);
    for (const values of perPartition.values()) expect(values).toEqual([...values].sort((a, b) => a - b));
  });

  it('cuts each partition’s records into batches within the topic’s size limit and the record cap', () => {
    const messages = Array.from({ length: 400 }, (_, i) => message(`k${i}`, 1000));
    const limit = 65536;
    const plan = planSends(
      [{ topic: 't', messages }],
      shapes({ t: { partitions: 2, maxMessageBytes: limit } }),
      50,
    );
    for (const request of plan) {
      for (const { messages: batch } of request) {
        const byPartition = new Map<number, Message[]>();
        for (const m of batch) byPartition.set(m.partition!, [...(byPartition.get(m.partition!) ?? []), m]);
        for (const records of byPartition.values()) {
          expect(records.length).toBeLessThanOrEqual(50);
          expect(records.reduce((sum, m) => sum + recordBytes(m), 0)).toBeLessThanOrEqual(batchBudget(limit));
        }
      }
    }
    expect(plan.flatMap((r) => r.flatMap((t) => t.messages))).toHaveLength(400);
  });

  it('carries several topics in one request and skips empty ones', () => {
    const plan = planSends(
      [
        { topic: 'logs', messages: [message('a', 10)] },
        { topic: 'dlq', messages: [message('b', 10)] },
        { topic: 'empty', messages: [] },
      ],
      shapes({
        logs: { partitions: 3, maxMessageBytes: 1048588 },
        dlq: { partitions: 1, maxMessageBytes: 1048588 },
      }),
    );
    expect(plan).toHaveLength(1);
    expect(plan[0]!.map((t) => t.topic)).toEqual(['logs', 'dlq']);
  });

  it('refuses a record larger than its topic takes, naming the sizes', () => {
    expect(() =>
      planSends(
        [{ topic: 't', messages: [message('a', 70000)] }],
        shapes({ t: { partitions: 1, maxMessageBytes: 65536 } }),
      ),
    ).toThrow(RecordTooLargeError);
  });
});

describe('recordBytes', () => {
  it('is an upper bound that grows with key, value and headers', () => {
    const small = recordBytes({ key: 'k', value: 'v' });
    expect(small).toBeGreaterThan(2);
    expect(recordBytes({ key: 'k', value: 'v'.repeat(100), headers: { h: 'x' } })).toBeGreaterThan(
      small + 100,
    );
  });
});

describe('checkAnswered', () => {
  const request = [
    { topic: 't', messages: [0, 1, 2, 2].map((partition) => ({ partition, value: 'v' })) },
    { topic: 'dlq', messages: [{ partition: 0, value: 'v' }] },
  ];
  const answer = (topicName: string, partition: number) => ({ topicName, partition });

  it('accepts one answer for each partition the request carries, in any order', () => {
    expect(() =>
      checkAnswered(request, [answer('dlq', 0), answer('t', 2), answer('t', 0), answer('t', 1)]),
    ).not.toThrow();
  });

  it('refuses a request resolved without an answer for a partition (its records were never sent)', () => {
    const check = () => checkAnswered(request, [answer('t', 0), answer('t', 2), answer('dlq', 0)]);
    expect(check).toThrow(UnansweredPartitionsError);
    expect(check).toThrow(/no answer for t-1$/);
  });

  it('refuses a request with a partition answered twice (its records were written twice)', () => {
    const check = () =>
      checkAnswered(request, [
        answer('t', 0),
        answer('t', 1),
        answer('t', 2),
        answer('t', 1),
        answer('dlq', 0),
      ]);
    expect(check).toThrow(/answered more than once for t-1$/);
  });

  it('refuses answers for partitions the request did not carry', () => {
    const check = () =>
      checkAnswered(request, [
        answer('t', 0),
        answer('t', 1),
        answer('t', 2),
        answer('dlq', 0),
        answer('x', 0),
      ]);
    expect(check).toThrow(/answers for partitions it did not carry: x-0$/);
  });
});

describe('onePartitionEach', () => {
  it('splits a request into one request per partition, each partition’s records in order', () => {
    const m = (partition: number, value: string) => ({ partition, value });
    const parts = onePartitionEach([
      { topic: 't', messages: [m(1, 'a'), m(0, 'b'), m(1, 'c'), m(2, 'd'), m(0, 'e')] },
      { topic: 'dlq', messages: [m(0, 'f')] },
    ]);
    expect(parts).toEqual([
      [{ topic: 't', messages: [m(1, 'a'), m(1, 'c')] }],
      [{ topic: 't', messages: [m(0, 'b'), m(0, 'e')] }],
      [{ topic: 't', messages: [m(2, 'd')] }],
      [{ topic: 'dlq', messages: [m(0, 'f')] }],
    ]);
  });
});
