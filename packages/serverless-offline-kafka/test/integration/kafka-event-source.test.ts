/**
 * The local Kafka event source against the real broker: Lambda-shaped batches, fanout between groups,
 * load balancing inside a group, batchSize, and commits only after the function succeeded.
 */
import type { MSKEvent, MSKRecord } from 'aws-lambda';
import { parseKafkaEventDefinition } from '../../src/kafka-event-definition';
import { KafkaEventSource, type SourceLog } from '../../src/kafka-event-source';
import { brokers, createTopics, testKafka, uniqueName, withAdmin } from '../helpers/kafka';
import { eventSourceFixture } from '../helpers/event-sources';
import { waitForGroupDrained } from '../helpers/quiescence';
import { waitFor } from '../helpers/wait';

// Each count waits for the group to be still (test/helpers/quiescence.ts) after the last record arrived.
jest.setTimeout(30000);

/** The records of a Lambda Kafka event, every partition's in turn. */
const deliveredRecords = (event: MSKEvent): MSKRecord[] => Object.values(event.records).flat();

const quiet: SourceLog = { notice: () => undefined, warning: () => undefined, error: () => undefined };
const RECORDS = 60;

interface Received {
  events: MSKEvent[];
  offsets: () => string[];
}

function collector(): Received & { invoke: (e: unknown) => Promise<void> } {
  const events: MSKEvent[] = [];
  return {
    events,
    offsets: () => events.flatMap((e) => deliveredRecords(e).map((r) => `${r.partition}@${r.offset}`)),
    invoke: async (e) => {
      events.push(e as MSKEvent);
    },
  };
}

const { sources, producer } = eventSourceFixture<KafkaEventSource>();

function source(
  topic: string,
  group: string,
  invoke: (e: unknown) => Promise<unknown>,
  batchSize = 100,
  key = 'fn',
) {
  const definition = parseKafkaEventDefinition(
    key,
    'msk',
    { arn: 'arn:aws:kafka:local', topic, consumerGroupId: group, batchSize, maximumBatchingWindow: 0.1 },
    group,
  );
  const s = new KafkaEventSource(definition, testKafka(), brokers(), invoke, quiet);
  sources.push(s);
  return s;
}

async function produce(topic: string, count: number): Promise<void> {
  await producer().send({
    topic,
    acks: -1,
    messages: Array.from({ length: count }, (_, i) => ({
      key: `client-${i % 12}`,
      value: JSON.stringify({ i }),
      headers: { n: String(i) },
    })),
  });
}

it('delivers the records in the MSK event shape, each partition in offset order', async () => {
  const topic = uniqueName('shape');
  await createTopics([{ topic, partitions: 3 }]);
  await produce(topic, RECORDS);
  const got = collector();
  const group = uniqueName('g');
  await source(topic, group, got.invoke).start();
  await waitFor(() => got.offsets().length >= RECORDS, `${RECORDS} records`);
  await waitForGroupDrained(group, topic, () => got.offsets().length);
  expect(got.offsets()).toHaveLength(RECORDS);

  for (const event of got.events) {
    expect(event.eventSource).toBe('aws:kafka');
    expect(event.eventSourceArn).toBe('arn:aws:kafka:local');
    expect(event.bootstrapServers).toBe(brokers().join(','));
    const [key, records] = Object.entries(event.records)[0]!;
    expect(Object.keys(event.records)).toHaveLength(1);
    expect(key).toBe(`${topic}-${records[0]!.partition}`);
    const offsets = records.map((r) => r.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  }
  const [first] = deliveredRecords(got.events[0]!);
  expect(Buffer.from(first!.key, 'base64').toString()).toMatch(/^client-\d+$/);
  expect(Object.keys(first!.headers[0]!)).toEqual(['n']);
});

it('fanout: two functions with distinct consumer groups each receive every record', async () => {
  const topic = uniqueName('fanout');
  await createTopics([{ topic, partitions: 3 }]);
  const a = collector();
  const b = collector();
  const [ga, gb] = [uniqueName('ga'), uniqueName('gb')];
  await Promise.all([source(topic, ga, a.invoke).start(), source(topic, gb, b.invoke).start()]);
  await produce(topic, RECORDS);
  await waitFor(
    () => a.offsets().length >= RECORDS && b.offsets().length >= RECORDS,
    'both groups to receive every record',
  );
  await waitForGroupDrained(ga, topic, () => a.offsets().length);
  await waitForGroupDrained(gb, topic, () => b.offsets().length);
  expect(a.offsets()).toHaveLength(RECORDS);
  expect(b.offsets()).toHaveLength(RECORDS);
  expect(a.offsets().sort()).toEqual(b.offsets().sort());
  expect(new Set(a.offsets()).size).toBe(RECORDS);
});

it('load balancing: two functions sharing a group split the records, each once', async () => {
  const topic = uniqueName('balance');
  await createTopics([{ topic, partitions: 3 }]);
  const group = uniqueName('shared');
  const a = collector();
  const b = collector();
  await source(topic, group, a.invoke, 100, 'a').start();
  await source(topic, group, b.invoke, 100, 'b').start();
  await waitFor(
    async () =>
      withAdmin(
        async (admin) =>
          (await admin.describeGroups([group])).groups[0]!.members.length === 2 &&
          (await admin.describeGroups([group])).groups[0]!.state === 'Stable',
      ),
    'both members in a stable group',
  );
  await produce(topic, RECORDS);
  await waitFor(() => a.offsets().length + b.offsets().length >= RECORDS, 'the group to handle every record');
  await waitForGroupDrained(group, topic, () => a.offsets().length + b.offsets().length);
  const union = [...a.offsets(), ...b.offsets()];
  expect(new Set(union).size).toBe(RECORDS);
  expect(union).toHaveLength(RECORDS);
  expect(a.offsets().length).toBeGreaterThan(0);
  expect(b.offsets().length).toBeGreaterThan(0);
  const partitionsOf = (r: Received) => new Set(r.offsets().map((o) => o.split('@')[0]));
  for (const p of partitionsOf(a)) expect(partitionsOf(b).has(p)).toBe(false);
});

it('never invokes with more than batchSize records', async () => {
  const topic = uniqueName('batch');
  await createTopics([{ topic, partitions: 1 }]);
  await produce(topic, 23);
  const got = collector();
  const group = uniqueName('g');
  await source(topic, group, got.invoke, 5).start();
  await waitFor(() => got.offsets().length >= 23, '23 records');
  await waitForGroupDrained(group, topic, () => got.offsets().length);
  expect(got.offsets()).toHaveLength(23);
  expect(Math.max(...got.events.map((e) => deliveredRecords(e).length))).toBeLessThanOrEqual(5);
});

it('commits only after the function succeeded: a failed batch is delivered again', async () => {
  const topic = uniqueName('retry');
  await createTopics([{ topic, partitions: 1 }]);
  await produce(topic, 10);
  const group = uniqueName('g');
  const attempts: string[][] = [];
  // What the group had committed when each failing attempt ran; asserted after the handler returned, where
  // a failed expectation fails the test instead of passing for the handler failure this test provokes.
  const committedDuringFailure: string[] = [];
  let failuresLeft = 1;
  await source(topic, group, async (e) => {
    attempts.push(deliveredRecords(e as MSKEvent).map((r) => String(r.offset)));
    if (failuresLeft-- > 0) {
      const committed = await withAdmin((admin) => admin.fetchOffsets({ groupId: group, topics: [topic] }));
      committedDuringFailure.push(committed[0]!.partitions[0]!.offset);
      throw new Error('handler failed');
    }
  }).start();
  await waitFor(() => attempts.length >= 2, 'the retry');
  expect(committedDuringFailure).toEqual(['-1']);
  expect(attempts[1]).toEqual(attempts[0]);
  await waitFor(
    async () =>
      withAdmin(
        async (admin) =>
          (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]!.partitions[0]!.offset === '10',
      ),
    'the offset after the last record to be committed',
  );
});
