/**
 * What Kafka and SNS do differently, shown against the real broker and the SNS emulator rather than taken
 * from documentation: retention for late readers, per-partition order, a shared group versus fanout, and
 * records that outlive a broker crash. The SNS topics and subscriptions are made by the LocalStack init
 * script, run here against the emulator.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import type { Consumer, Producer } from 'kafkajs';
import { nginxLines } from '../../lab/compare/records';
import { sequenceOf } from '../helpers/workload';
import type { SnsEmulator } from '../../local/sns/emulator';
import { loadConfig } from '../../shared/config';
import { ingestLines } from '../../shared/ingest/ingest-lines';
import { createKafka } from '../../shared/kafka/client';
import { createProducer } from '../../shared/kafka/producer';
import { decodeRecordValue } from '../../shared/record/contract';
import { createSnsClient } from '../../shared/sns/client';
import { topicArn } from '../../shared/sns/config';
import { publishLines } from '../../shared/sns/publish';
import { createTopics, readTopic, testKafka, uniqueName } from '../helpers/kafka';
import { restartableBroker } from '../helpers/restartable-broker';
import { collector, emulator, runInitScript, type Collector } from '../helpers/sns';
import { waitFor } from '../helpers/wait';

jest.setTimeout(120000);

const origin = { source: 'test:semantics', logFormat: 'combined' };
let producer: Producer;
let sns: SnsEmulator;
let snsClient: SNSClient;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  producer = createProducer(loadConfig());
  await producer.connect();
  sns = await emulator();
  snsClient = createSnsClient({ endpoint: sns.endpoint, region: 'us-east-1' });
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await producer?.disconnect();
  snsClient?.destroy();
  await sns?.close();
});

async function produce(topic: string, lines: string[]): Promise<void> {
  await ingestLines(producer, { topic, deadLetterTopic: `${topic}-dlq` }, lines, origin);
}

/** A topic on the emulator with the given HTTP subscribers, made by the LocalStack init script. */
async function snsTopic(subscribers: Collector[]): Promise<{ arn: string; dlqArn: string }> {
  const name = uniqueName('sns');
  const out = await runInitScript({
    SNS_ENDPOINT: sns.endpoint,
    SNS_TOPIC: name,
    SNS_DLQ_TOPIC: `${name}-dlq`,
    SNS_HTTP_SUBSCRIBERS: subscribers.map((s) => s.url).join(' '),
  });
  expect(out).toContain(`topic ${topicArn(name)}`);
  return { arn: topicArn(name), dlqArn: topicArn(`${name}-dlq`) };
}

async function newCollector(): Promise<Collector> {
  const c = await collector();
  closers.push(() => c.close());
  return c;
}

const seqs = (c: Collector) =>
  c.received.map((n) => sequenceOf(decodeRecordValue(n.Message))).sort((a, b) => a - b);

describe('a reader that arrives after the records were written', () => {
  it('Kafka: a consumer group created afterwards still reads every record', async () => {
    const topic = uniqueName('late');
    await createTopics([{ topic, partitions: 3 }]);
    await produce(topic, nginxLines(50));
    const read = await readTopic(topic, 50);
    expect(read).toHaveLength(50);
  });

  it('SNS: a subscriber added afterwards receives nothing of what was published before', async () => {
    const early = await newCollector();
    const { arn, dlqArn } = await snsTopic([early]);
    await publishLines(snsClient, { topicArn: arn, deadLetterTopicArn: dlqArn }, nginxLines(50), origin);
    await waitFor(() => early.received.length >= 50, 'the early subscriber to get the 50 messages');

    const late = await newCollector();
    await snsClient.send(new SubscribeCommand({ TopicArn: arn, Protocol: 'http', Endpoint: late.url }));
    await publishLines(snsClient, { topicArn: arn, deadLetterTopicArn: dlqArn }, nginxLines(1, 50), origin);
    await waitFor(
      () => late.received.length >= 1 && early.received.length >= 51,
      'the message after subscribing',
    );

    expect(seqs(late)).toEqual([50]);
    expect(early.received).toHaveLength(51);
  });
});

it('Kafka keeps the order of the records within each partition, so each client’s requests stay in order', async () => {
  const topic = uniqueName('order');
  await createTopics([{ topic, partitions: 3 }]);
  for (let first = 0; first < 400; first += 50) await produce(topic, nginxLines(50, first));
  const read = await readTopic(topic, 400);
  const byPartition = new Map<number, { offsets: number[]; seqs: number[] }>();
  const byClient = new Map<string, number[]>();
  for (const message of read) {
    const record = decodeRecordValue(message.value!);
    const p = byPartition.get(message.partition) ?? { offsets: [], seqs: [] };
    p.offsets.push(Number(message.offset));
    p.seqs.push(sequenceOf(record));
    byPartition.set(message.partition, p);
    byClient.set(record.remoteAddr, [...(byClient.get(record.remoteAddr) ?? []), sequenceOf(record)]);
  }
  const ascending = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);
  expect(byPartition.size).toBeGreaterThan(1);
  for (const { offsets, seqs: s } of byPartition.values()) {
    expect(ascending(offsets)).toBe(true);
    expect(ascending(s)).toBe(true);
  }
  expect(byClient.size).toBe(8);
  for (const s of byClient.values()) expect(ascending(s)).toBe(true);
});

describe('several readers of one stream', () => {
  it('Kafka: two members of one group split the records between them, each record once', async () => {
    const topic = uniqueName('shared');
    const groupId = uniqueName('group');
    await createTopics([{ topic, partitions: 3 }]);
    const seen = new Map<string, number[]>();
    const assignments = new Map<string, { generation: number; partitions: number[] }>();
    const consumers: Consumer[] = [];
    for (const member of ['a', 'b']) {
      const consumer = testKafka().consumer({ groupId, maxWaitTimeInMs: 100 });
      consumers.push(consumer);
      closers.push(() => consumer.disconnect());
      seen.set(member, []);
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        assignments.set(member, {
          generation:
            payload.groupId === groupId
              ? Number((payload as { generationId?: number }).generationId ?? 0)
              : 0,
          partitions: payload.memberAssignment[topic] ?? [],
        });
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.get(member)!.push(sequenceOf(decodeRecordValue(message.value!)));
        },
      });
    }
    await waitFor(() => {
      const [a, b] = [assignments.get('a'), assignments.get('b')];
      return (
        a !== undefined &&
        b !== undefined &&
        a.partitions.length > 0 &&
        b.partitions.length > 0 &&
        a.partitions.length + b.partitions.length === 3
      );
    }, 'both members of the group to have partitions');

    await produce(topic, nginxLines(120));
    await waitFor(
      () => seen.get('a')!.length + seen.get('b')!.length >= 120,
      'the group to read 120 records',
    );
    const all = [...seen.get('a')!, ...seen.get('b')!].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 120 }, (_, i) => i));
    expect(seen.get('a')!.length).toBeGreaterThan(0);
    expect(seen.get('b')!.length).toBeGreaterThan(0);
  });

  it('SNS: every subscriber receives every message', async () => {
    const subscribers = [await newCollector(), await newCollector(), await newCollector()];
    const { arn, dlqArn } = await snsTopic(subscribers);
    await publishLines(snsClient, { topicArn: arn, deadLetterTopicArn: dlqArn }, nginxLines(60), origin);
    await waitFor(
      () => subscribers.every((s) => s.received.length >= 60),
      'each subscriber to get 60 messages',
    );
    for (const s of subscribers) expect(seqs(s)).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });
});

it('Kafka keeps acknowledged records when its broker is killed and started again', async () => {
  const broker = await restartableBroker();
  closers.push(() => broker.remove());
  const { brokers } = broker;
  const kafka = createKafka({ brokers, clientId: 'restart-test' });
  const admin = kafka.admin();
  await admin.connect();
  const topic = uniqueName('durable');
  await admin.createTopics({
    topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  await admin.disconnect();
  const own = createProducer({ ...loadConfig(), brokers });
  await own.connect();
  await ingestLines(own, { topic, deadLetterTopic: topic }, nginxLines(100), origin);
  await own.disconnect();

  await broker.kill();
  await broker.start();

  const consumer = kafka.consumer({ groupId: uniqueName('after-restart'), maxWaitTimeInMs: 100 });
  const read: number[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => void read.push(sequenceOf(decodeRecordValue(message.value!))),
    });
    await waitFor(() => read.length >= 100, 'the 100 records after the restart', 60000);
  } finally {
    await consumer.disconnect();
  }
  expect(read.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
});
