/**
 * The librdkafka producer's bookkeeping against a scripted client: which records it hands to librdkafka, in
 * what order, when send() resolves, and what it hands over again after a failed delivery report, a fatal
 * error or a full queue. The real client is exercised against a real broker (killed with -9) in
 * test/integration/ship-broker-crash.test.ts; here the test says when librdkafka still holds records and
 * which fail, so the paths a healthy broker never takes are covered too.
 */
import { EventEmitter } from 'node:events';
import { loadConfig } from '../../../../shared/config';
import { packRecords, type EncodedBatch } from '../../../../tools/ship/encoded-batch';
import { keyPartition } from '../../../../shared/kafka/partitioner';
import {
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
  headers: Array<Record<string, Buffer>>;
}

const produced: Produced[] = [];
const clients: FakeClient[] = [];
let queueRoom = Infinity;

const error = (code: number, message = `error ${code}`): RdkafkaError =>
  Object.assign(new Error(message), { code });

class FakeClient extends EventEmitter {
  disconnected = false;
  /** How many of the records handed to this client the broker has stored (the oldest first). */
  stored = 0;
  /** A failed record's report made before the first answer to flush(0) that says nothing is held, but run a turn after it. */
  lateReport: { p: Produced; err: RdkafkaError } | undefined;
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
  produce(
    topic: string,
    partition: number,
    value: Uint8Array | null,
    _k: unknown,
    _t: null,
    _o: unknown,
    headers: Array<Record<string, Buffer>>,
  ) {
    if (queueRoom <= 0) throw Object.assign(new Error('Local: Queue full'), { code: RD.QUEUE_FULL });
    queueRoom--;
    produced.push({ client: this, topic, partition, value: Buffer.from(value!).toString(), headers });
  }
  holding(): number {
    return produced.filter((p) => p.client === this).length - this.stored;
  }
  flush(timeout: number, done: (err: RdkafkaError | null) => void) {
    const held = this.holding();
    setImmediate(() => {
      done(timeout === 0 && held > 0 ? error(RD.TIMED_OUT, 'Local: Timed out') : null);
      if (held > 0 || !this.lateReport) return;
      const late = this.lateReport;
      this.lateReport = undefined;
      // Made before the answer that librdkafka holds nothing, seen by the loop only in its next turn.
      setImmediate(() => this.report(late.p, late.err));
    });
  }
  disconnect(_t: number, done: () => void) {
    this.disconnected = true;
    done();
  }
  /** librdkafka's report of a failed record (it reports no others). */
  report(p: Produced, err: RdkafkaError) {
    this.emit('delivery-report', err, { topic: p.topic, partition: p.partition });
  }
}

const fake = { Producer: FakeClient, librdkafkaVersion: 'test' } as unknown as RdkafkaModule;
const config = { ...loadConfig({}), topic: 't', deadLetterTopic: 't-dlq' };

function batch(...values: string[]): EncodedBatch {
  return {
    records: packRecords(values.map((v) => ({ key: `key-${v}`, value: v, headers: { h: '1' } }))),
    deadLetters: [],
    counts: { accepted: values.length, rejected: 0, blank: 0 },
  };
}

/**
 * Whether the promise is still unsettled after a few of the producer's questions to librdkafka (one every
 * millisecond). Only "still pending" is asked this way; a promise that must settle is awaited, so a slow
 * machine makes the test wait, not fail.
 */
const stillPending = async (promise: Promise<void>) => {
  let pending = true;
  promise.then(
    () => (pending = false),
    () => (pending = false),
  );
  await new Promise((r) => setTimeout(r, 30));
  return pending;
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

it('hands every record over with the partitioner’s partition and its headers, in order, and resolves only when librdkafka holds none', async () => {
  const producer = await connected();
  const sending = producer.send(batch('a', 'b', 'c', 'd'));
  expect(produced.map((p) => p.value)).toEqual(['a', 'b', 'c', 'd']);
  for (const p of produced) {
    expect(p.partition).toBe(keyPartition(Buffer.from(`key-${p.value}`), 3));
    expect(p.headers).toEqual([{ h: Buffer.from('1') }]);
  }
  clients[0]!.stored = 3;
  expect(await stillPending(sending)).toBe(true);
  clients[0]!.stored = 4;
  await expect(sending).resolves.toBeUndefined();
});

it('after a failed delivery report, a new producer gets every record of the batches not acknowledged, in order', async () => {
  const producer = await connected();
  const b = batch('a', 'b', 'c', 'd');
  const first = producer.send(b);
  const [, bb] = produced;
  bb!.client.report(bb!, error(-195, 'Local: Broker transport failure'));
  await expect(first).rejects.toThrow(/transport failure.*4 records are not acknowledged/);
  const retry = producer.send(b);
  await new Promise((r) => setImmediate(r));
  // The whole batch again: without a report per record, which of a, c, d were stored is not known.
  expect(produced.slice(4).map((p) => [p.value, p.client === clients[1]])).toEqual([
    ['a', true],
    ['b', true],
    ['c', true],
    ['d', true],
  ]);
  expect(clients[0]!.disconnected).toBe(true);
  clients[1]!.stored = 4;
  await expect(retry).resolves.toBeUndefined();
});

it('a failed report that reaches JavaScript just after librdkafka said it holds nothing still fails the batch', async () => {
  const producer = await connected();
  const sending = producer.send(batch('a', 'b'));
  const client = clients[0]!;
  client.stored = 2;
  client.lateReport = { p: produced[1]!, err: error(-195, 'Local: Broker transport failure') };
  await expect(sending).rejects.toThrow(/transport failure/);
});

it('after a fatal error, a new producer gets every batch not acknowledged, in order, and none that was', async () => {
  const producer = await connected();
  const one = batch('a', 'b');
  const first = producer.send(one);
  clients[0]!.stored = 2;
  await expect(first).resolves.toBeUndefined();
  const two = batch('c', 'd');
  const three = batch('e');
  const second = producer.send(two);
  const third = producer.send(three);
  clients[0]!.emit(
    'event.error',
    Object.assign(error(RD.FATAL, 'Fatal: out of order sequence'), { isFatal: true }),
  );
  await expect(second).rejects.toThrow(/out of order/);
  await expect(third).rejects.toThrow(/out of order/);
  const retryThree = producer.send(three);
  const retryTwo = producer.send(two);
  await new Promise((r) => setImmediate(r));
  expect(clients).toHaveLength(2);
  expect(clients[0]!.disconnected).toBe(true);
  const again = produced.filter((p) => p.client === clients[1]);
  // In the order the batches were first given, whatever the order of the retries.
  expect(again.map((p) => p.value)).toEqual(['c', 'd', 'e']);
  clients[1]!.stored = 3;
  await expect(retryTwo).resolves.toBeUndefined();
  await expect(retryThree).resolves.toBeUndefined();
});

it('waits while librdkafka’s queue is full, then hands over the rest', async () => {
  const producer = await connected();
  queueRoom = 2;
  const sending = producer.send(batch('a', 'b', 'c', 'd'));
  expect(produced.map((p) => p.value)).toEqual(['a', 'b']);
  expect(await stillPending(sending)).toBe(true);
  queueRoom = 2;
  clients[0]!.stored = 2;
  // The producer tries the full queue again on its own; a slow machine only takes longer.
  for (const until = Date.now() + 5000; produced.length < 4 && Date.now() < until;) {
    await new Promise((r) => setTimeout(r, 5));
  }
  expect(produced.map((p) => p.value)).toEqual(['a', 'b', 'c', 'd']);
  expect(await stillPending(sending)).toBe(true);
  clients[0]!.stored = 4;
  await expect(sending).resolves.toBeUndefined();
});

it('a record the broker refuses as such is a RefusedError (retrying cannot help)', async () => {
  const producer = await connected();
  const sending = producer.send(batch('a'));
  produced[0]!.client.report(produced[0]!, error(RD.MSG_SIZE_TOO_LARGE, 'Broker: Message size too large'));
  await expect(sending).rejects.toBeInstanceOf(RefusedError);
});

it('dead letters follow the batch’s records to the dead-letter topic, keyed and with their own headers', async () => {
  const producer = await connected();
  const b = batch('a');
  b.deadLetters.push({ key: 'file:x', value: Buffer.from('bad line'), headers: { 'dlq-reason': 'why' } });
  const sending = producer.send(b);
  expect(produced.map((p) => [p.topic, p.value])).toEqual([
    ['t', 'a'],
    ['t-dlq', 'bad line'],
  ]);
  expect(produced[1]!.headers).toEqual([{ 'dlq-reason': Buffer.from('why') }]);
  clients[0]!.stored = 2;
  await expect(sending).resolves.toBeUndefined();
});
