/**
 * The librdkafka producer's bookkeeping against a scripted client: which records it hands to librdkafka, in
 * what order, when send() resolves, and what it hands over again after a failed delivery report, a fatal
 * error or a full queue. The real client is exercised against a real broker (killed with -9) in
 * test/integration/ship-broker-crash.test.ts; here each delivery report is given by the test, so the paths a
 * healthy broker never takes are covered too.
 */
import { EventEmitter } from 'node:events';
import type { TopicMessages } from 'kafkajs';
import { loadConfig } from '../../../../shared/config';
import {
  keyPartition,
  RD,
  RdkafkaProducer,
  RefusedError,
  type RdkafkaError,
  type RdkafkaModule,
} from '../../../../tools/ship/kafka-clients';

interface Produced {
  client: FakeClient;
  topic: string;
  partition: number;
  value: string;
}

const produced: Produced[] = [];
const clients: FakeClient[] = [];
let queueRoom = Infinity;

class FakeClient extends EventEmitter {
  disconnected = false;
  constructor(readonly settings: Record<string, unknown>) {
    super();
    clients.push(this);
  }
  connect(_options: unknown, done: (err: null) => void) {
    done(null);
  }
  getMetadata(options: { topic: string }, done: (err: null, m: unknown) => void) {
    done(null, {
      topics: [{ name: options.topic, partitions: options.topic.endsWith('dlq') ? [0] : [0, 1, 2] }],
    });
  }
  setPollInBackground() {}
  produce(topic: string, partition: number, value: Buffer | null) {
    if (queueRoom <= 0) throw Object.assign(new Error('Local: Queue full'), { code: RD.QUEUE_FULL });
    queueRoom--;
    produced.push({ client: this, topic, partition, value: value!.toString() });
  }
  flush(_t: number, done: () => void) {
    done();
  }
  disconnect(_t: number, done: () => void) {
    this.disconnected = true;
    done();
  }
  /** librdkafka's report for the oldest record of that partition not reported yet. */
  report(p: Produced, err: RdkafkaError | null = null) {
    this.emit('delivery-report', err, { topic: p.topic, partition: p.partition });
  }
}

const fake = { Producer: FakeClient, librdkafkaVersion: 'test' } as unknown as RdkafkaModule;
const config = { ...loadConfig({}), topic: 't', deadLetterTopic: 't-dlq' };
const error = (code: number, message = `error ${code}`): RdkafkaError =>
  Object.assign(new Error(message), { code });

function batch(...values: string[]): TopicMessages[] {
  return [{ topic: 't', messages: values.map((v) => ({ key: `key-${v}`, value: v, headers: { h: '1' } })) }];
}

/** Reports every record produced so far (and not reported) as stored, or with `err`. */
function reportAll(from: number, err: RdkafkaError | null = null) {
  for (const p of produced.slice(from)) p.client.report(p, err);
}

const settled = async (promise: Promise<void>) => {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return state;
};

async function connected(): Promise<RdkafkaProducer> {
  const producer = new RdkafkaProducer(config, fake, { 'bootstrap.servers': 'x:1' });
  await producer.connect();
  return producer;
}

beforeEach(() => {
  produced.length = 0;
  clients.length = 0;
  queueRoom = Infinity;
});

it('hands every record over with the partitioner’s partition, in order, and resolves only when all are reported stored', async () => {
  const producer = await connected();
  const sending = producer.send(batch('a', 'b', 'c', 'd'));
  expect(produced.map((p) => p.value)).toEqual(['a', 'b', 'c', 'd']);
  for (const p of produced) expect(p.partition).toBe(keyPartition(Buffer.from(`key-${p.value}`), 3));
  for (const p of produced.slice(0, 3)) p.client.report(p);
  expect(await settled(sending)).toBe('pending');
  produced[3]!.client.report(produced[3]!);
  expect(await settled(sending)).toBe('resolved');
});

it('after a failed delivery report, a new producer gets every record not acknowledged, in order', async () => {
  const producer = await connected();
  const b = batch('a', 'b', 'c', 'd');
  const first = producer.send(b);
  const [a, bb, c] = produced;
  a!.client.report(a!);
  bb!.client.report(bb!, error(-195, 'Local: Broker transport failure'));
  c!.client.report(c!);
  await expect(first).rejects.toThrow(/transport failure.*2 records of the batch not acknowledged/);
  const retry = producer.send(b);
  await new Promise((r) => setImmediate(r));
  // b again, and d (handed to the old producer, never reported) after it: nothing overtakes b.
  expect(produced.slice(4).map((p) => [p.value, p.client === clients[1]])).toEqual([
    ['b', true],
    ['d', true],
  ]);
  reportAll(4);
  expect(await settled(retry)).toBe('resolved');
});

it('after a fatal error, a new producer gets every unacknowledged record of every batch in flight, in order', async () => {
  const producer = await connected();
  const one = batch('a', 'b');
  const two = batch('c', 'd');
  const first = producer.send(one);
  const second = producer.send(two);
  const [a] = produced;
  a!.client.report(a!);
  clients[0]!.emit(
    'event.error',
    Object.assign(error(RD.FATAL, 'Fatal: out of order sequence'), { isFatal: true }),
  );
  await expect(first).rejects.toThrow(/out of order/);
  await expect(second).rejects.toThrow(/out of order/);
  const retryTwo = producer.send(two);
  const retryOne = producer.send(one);
  await new Promise((r) => setImmediate(r));
  expect(clients).toHaveLength(2);
  expect(clients[0]!.disconnected).toBe(true);
  const again = produced.filter((p) => p.client === clients[1]);
  expect(again.map((p) => p.value)).toEqual(['b', 'c', 'd']);
  // Reports of the replaced producer count for nothing.
  produced[1]!.client.report(produced[1]!);
  for (const p of again) p.client.report(p);
  expect(await settled(retryOne)).toBe('resolved');
  expect(await settled(retryTwo)).toBe('resolved');
});

it('waits for reports when librdkafka’s queue is full, then hands over the rest', async () => {
  const producer = await connected();
  queueRoom = 2;
  const sending = producer.send(batch('a', 'b', 'c', 'd'));
  expect(produced.map((p) => p.value)).toEqual(['a', 'b']);
  queueRoom = 2;
  produced[0]!.client.report(produced[0]!);
  expect(produced.map((p) => p.value)).toEqual(['a', 'b', 'c', 'd']);
  reportAll(1);
  expect(await settled(sending)).toBe('resolved');
});

it('a record the broker refuses as such is a RefusedError (retrying cannot help)', async () => {
  const producer = await connected();
  const sending = producer.send(batch('a'));
  produced[0]!.client.report(produced[0]!, error(RD.MSG_SIZE_TOO_LARGE, 'Broker: Message size too large'));
  await expect(sending).rejects.toBeInstanceOf(RefusedError);
});
