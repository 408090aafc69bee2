/**
 * Conformance of the local Kafka event source with Lambda's event source mapping for Amazon MSK and
 * self-managed Kafka, against the real broker. Each test names the AWS documentation statement it checks
 * (paraphrased, with the page it is on):
 *   MSK   https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html (and its sub-pages)
 *   SMK   https://docs.aws.amazon.com/lambda/latest/dg/with-kafka.html
 *   RETRY https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html
 *   OFD   https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html
 *   FILT  https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
 *   ESM   https://docs.aws.amazon.com/lambda/latest/dg/API_CreateEventSourceMapping.html
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MSKEvent, MSKRecord } from 'aws-lambda';
import { CompressionTypes, type Message } from 'kafkajs';
import { parseKafkaEventDefinition, type RawKafkaEvent } from '../../src/kafka-event-definition';
import { KafkaEventSource, type SourceLog } from '../../src/kafka-event-source';
import { MAX_PAYLOAD_BYTES } from '../../src/lambda-events/kafka-event';
import { FAILURE_HEADER, type OnFailureRecord } from '../../src/lambda-events/on-failure-record';
import { MSK_EVENT_SCHEMA, SELF_MANAGED_EVENT_SCHEMA, validate } from '../helpers/kafka-event-schema';
import { brokers, createTopics, header, readTopic, testKafka, uniqueName, withAdmin } from '../helpers/kafka';
import { eventSourceFixture } from '../helpers/event-sources';
import { waitFor } from '../helpers/wait';

jest.setTimeout(60000);

interface Invocation {
  event: MSKEvent;
  records: MSKRecord[];
  partition: number;
  offsets: number[];
  started: number;
}

class Recorder {
  readonly invocations: Invocation[] = [];
  readonly lines: string[] = [];
  private active = new Map<number, number>();
  maxPerPartition = 0;
  maxOverall = 0;
  readonly log: SourceLog = {
    notice: (l) => this.lines.push(l),
    warning: (l) => this.lines.push(l),
    error: (l) => this.lines.push(l),
  };

  constructor(private readonly work: (inv: Invocation) => Promise<void> | void = () => undefined) {}

  invoke = async (e: unknown): Promise<void> => {
    const event = e as MSKEvent;
    const records = Object.values(event.records).flat();
    const partition = records[0]!.partition;
    const inv = { event, records, partition, offsets: records.map((r) => r.offset), started: Date.now() };
    this.invocations.push(inv);
    this.active.set(partition, (this.active.get(partition) ?? 0) + 1);
    this.maxPerPartition = Math.max(this.maxPerPartition, this.active.get(partition)!);
    this.maxOverall = Math.max(
      this.maxOverall,
      [...this.active.values()].reduce((a, b) => a + b, 0),
    );
    try {
      await this.work(inv);
    } finally {
      this.active.set(partition, this.active.get(partition)! - 1);
    }
  };

  delivered(): string[] {
    return this.invocations.flatMap((i) => i.offsets.map((o) => `${i.partition}@${o}`));
  }

  values(): string[] {
    return this.invocations.flatMap((i) =>
      i.records.map((r) => Buffer.from(r.value ?? '', 'base64').toString()),
    );
  }
}

const { sources, producer } = eventSourceFixture<KafkaEventSource>();

function source(
  topic: string,
  recorder: Recorder,
  raw: Partial<RawKafkaEvent> = {},
  opts: {
    type?: 'msk' | 'kafka';
    timeout?: number;
    group?: string;
    key?: string;
    maxBufferedRecords?: number;
    fetchBytesPerPartition?: number;
  } = {},
): KafkaEventSource {
  const definition = parseKafkaEventDefinition(
    opts.key ?? 'fn',
    opts.type ?? 'msk',
    {
      arn: 'arn:aws:kafka:us-east-1:000000000000:cluster/local/x',
      topic,
      consumerGroupId: opts.group ?? uniqueName('g'),
      maximumBatchingWindow: 0.05,
      ...raw,
    },
    'unused',
    opts.timeout,
  );
  const s = new KafkaEventSource(definition, testKafka(), brokers(), recorder.invoke, recorder.log, {
    retryBaseDelayMs: 20,
    maxBufferedRecords: opts.maxBufferedRecords,
    fetchBytesPerPartition: opts.fetchBytesPerPartition,
  });
  sources.push(s);
  return s;
}

async function produce(topic: string, messages: Message[], partition?: number): Promise<void> {
  await producer().send({
    topic,
    acks: -1,
    messages: messages.map((m) => (partition === undefined ? m : { ...m, partition })),
  });
}

const json = (n: number, extra: Record<string, unknown> = {}): Message => ({
  key: `k${n % 7}`,
  value: JSON.stringify({ n, ...extra }),
});

/** `count` JSON records numbered from `from`. */
const jsonRange = (count: number, from = 0): Message[] =>
  Array.from({ length: count }, (_, i) => json(from + i));

async function committed(group: string, topic: string): Promise<Record<number, string>> {
  return withAdmin(async (admin) => {
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return Object.fromEntries(t!.partitions.map((p) => [p.partition, p.offset]));
  });
}

/** Where a group that handled everything stands: after the last offset, or -1 for an empty partition. */
async function highWatermarks(topic: string): Promise<Record<number, string>> {
  return withAdmin(async (admin) =>
    Object.fromEntries(
      (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high === '0' ? '-1' : p.high]),
    ),
  );
}

async function waitCommitted(group: string, topic: string, expected: Record<number, string>): Promise<void> {
  let last: Record<number, string> = {};
  await waitFor(
    async () => JSON.stringify((last = await committed(group, topic))) === JSON.stringify(expected),
    `group ${group} to commit ${JSON.stringify(expected)}`,
  ).catch((err: Error) => {
    throw new Error(`${err.message} (committed: ${JSON.stringify(last)})`);
  });
}

describe('event shape and record details', () => {
  it('MSK: "Lambda sends the batch of messages in the event parameter" with eventSource aws:kafka, eventSourceArn, bootstrapServers and records keyed "<topic>-<partition>" — validates against the published event schema, null keys, repeated and binary headers and tombstones included', async () => {
    const topic = uniqueName('shape');
    await createTopics([{ topic, partitions: 2 }]);
    await produce(
      topic,
      [
        { key: null, value: 'no key' },
        { key: 'k', value: null },
        { key: 'h', value: 'headers', headers: { a: ['1', '2'], bin: Buffer.from([0, 255, 128]) } },
      ],
      0,
    );
    const got = new Recorder();
    await source(topic, got).start();
    await waitFor(() => got.delivered().length >= 3, '3 records');
    for (const { event } of got.invocations) expect(validate(MSK_EVENT_SCHEMA, event)).toEqual([]);
    const [noKey, tombstone, withHeaders] = got.invocations.flatMap((i) => i.records);
    expect(Object.keys(got.invocations[0]!.event.records)).toEqual([`${topic}-0`]);
    expect(noKey!.key).toBeUndefined();
    expect(tombstone!.value).toBeUndefined();
    expect(withHeaders!.headers).toEqual([{ a: [49] }, { a: [50] }, { bin: [0, 255, 128] }]);
  });

  it('SMK: self-managed Kafka events have eventSource "SelfManagedKafka" and no eventSourceArn', async () => {
    const topic = uniqueName('smk');
    await createTopics([{ topic, partitions: 1 }]);
    await produce(topic, [json(1)]);
    const got = new Recorder();
    await source(topic, got, { arn: undefined }, { type: 'kafka' }).start();
    await waitFor(() => got.delivered().length >= 1, 'the record');
    expect(validate(SELF_MANAGED_EVENT_SCHEMA, got.invocations[0]!.event)).toEqual([]);
  });

  it('compressed record batches (gzip) are delivered decompressed, as any Kafka consumer reads them', async () => {
    const topic = uniqueName('gzip');
    await createTopics([{ topic, partitions: 1 }]);
    await producer().send({
      topic,
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: [json(1), json(2)],
    });
    const got = new Recorder();
    await source(topic, got).start();
    await waitFor(() => got.delivered().length >= 2, '2 records');
    expect(got.values()).toEqual([JSON.stringify({ n: 1 }), JSON.stringify({ n: 2 })]);
  });

  it('records of aborted transactions are not delivered (Lambda reads committed records) and their offsets are passed', async () => {
    const topic = uniqueName('txn');
    await createTopics([{ topic, partitions: 1 }]);
    const tx = testKafka().producer({
      transactionalId: uniqueName('tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await tx.connect();
    try {
      const aborted = await tx.transaction();
      await aborted.send({ topic, messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] });
      await aborted.abort();
      const ok = await tx.transaction();
      await ok.send({ topic, messages: [{ value: 'committed' }] });
      await ok.commit();
    } finally {
      await tx.disconnect();
    }
    const got = new Recorder();
    const group = uniqueName('g');
    await source(topic, got, {}, { group }).start();
    await waitFor(() => got.delivered().length >= 1, 'the committed record');
    await waitCommitted(group, topic, await highWatermarks(topic));
    expect(got.values()).toEqual(['committed']);
  });
});

describe('ordering, concurrency and batching', () => {
  it('MSK: "Lambda processes records from a partition in order" and "one concurrent invocation per partition", partitions in parallel', async () => {
    const topic = uniqueName('order');
    await createTopics([{ topic, partitions: 3 }]);
    for (let p = 0; p < 3; p++) await produce(topic, jsonRange(20), p);
    const got = new Recorder(() => sleep(30)); // the function's own work
    await source(topic, got, { batchSize: 4 }).start();
    await waitFor(() => got.delivered().length >= 60, '60 records');
    for (let p = 0; p < 3; p++) {
      const offsets = got.invocations.filter((i) => i.partition === p).flatMap((i) => i.offsets);
      expect(offsets).toEqual(Array.from({ length: 20 }, (_, i) => i));
    }
    expect(got.maxPerPartition).toBe(1);
    expect(got.maxOverall).toBeGreaterThan(1);
  });

  it('ESM BatchSize: "the maximum number of records in each batch that Lambda pulls … and sends to your function"; a full batch is sent without waiting for the window', async () => {
    const topic = uniqueName('batch');
    await createTopics([{ topic, partitions: 1 }]);
    await produce(topic, jsonRange(23));
    const got = new Recorder();
    await source(topic, got, { batchSize: 5, maximumBatchingWindow: 30 }).start();
    await waitFor(() => got.delivered().length >= 20, 'four full batches well before the 30 s window');
    expect(got.invocations.map((i) => i.records.length)).toEqual([5, 5, 5, 5]);
  });

  it('ESM MaximumBatchingWindowInSeconds: "the maximum amount of time … Lambda spends gathering records before invoking"; records arriving within the window go in one batch', async () => {
    const topic = uniqueName('window');
    await createTopics([{ topic, partitions: 1 }]);
    const got = new Recorder();
    await source(topic, got, { batchSize: 100, maximumBatchingWindow: 2 }).start();
    const sent = Date.now();
    for (let i = 0; i < 3; i++) await produce(topic, [json(i)]);
    await waitFor(() => got.delivered().length >= 3, '3 records');
    expect(got.invocations).toHaveLength(1);
    expect(got.invocations[0]!.started - sent).toBeGreaterThanOrEqual(1500);
  });

  it('MSK: "the maximum payload for a synchronous invocation is 6 MB" — a batch that would exceed it is split, in order', async () => {
    const topic = uniqueName('big');
    await createTopics([{ topic, partitions: 1 }]);
    const value = Buffer.alloc(800 * 1024, 'x');
    for (let i = 0; i < 8; i++) await produce(topic, [{ key: String(i), value }]);
    const got = new Recorder();
    await source(topic, got, { batchSize: 100, maximumBatchingWindow: 1 }).start();
    await waitFor(() => got.delivered().length >= 8, '8 records of 800 KB');
    expect(got.invocations.length).toBeGreaterThan(1);
    for (const { event } of got.invocations) {
      expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    }
    expect(got.invocations.flatMap((i) => i.offsets)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('starting position, group and switches', () => {
  it('ESM StartingPosition TRIM_HORIZON and LATEST: from the oldest record, or only records written after the mapping starts', async () => {
    const topic = uniqueName('start');
    await createTopics([{ topic, partitions: 1 }]);
    await produce(topic, [json(1), json(2)]);
    const oldest = new Recorder();
    const latest = new Recorder();
    await source(topic, oldest, { startingPosition: 'TRIM_HORIZON' }).start();
    await source(topic, latest, { startingPosition: 'LATEST' }).start();
    await produce(topic, [json(3)]);
    await waitFor(() => oldest.delivered().length >= 3 && latest.delivered().length >= 1, 'both groups');
    expect(latest.delivered()).toEqual(['0@2']);
    expect(oldest.delivered()).toEqual(['0@0', '0@1', '0@2']);
  });

  it('the starting position is recorded for the group when first applied: a LATEST mapping restarted before any record arrives still gets what was written while it was down', async () => {
    const topic = uniqueName('latest-restart');
    await createTopics([{ topic, partitions: 1 }]);
    await produce(topic, [json(0)]);
    const group = uniqueName('g');
    const first = source(topic, new Recorder(), { startingPosition: 'LATEST' }, { group });
    await first.start();
    await waitCommitted(group, topic, { 0: '1' });
    await first.stop();
    await produce(topic, [json(1)]);
    const got = new Recorder();
    await source(topic, got, { startingPosition: 'LATEST' }, { group }).start();
    await waitFor(() => got.delivered().length >= 1, 'the record written while stopped');
    expect(got.delivered()).toEqual(['0@1']);
  });

  it('ESM StartingPositionTimestamp: with AT_TIMESTAMP, "the time from which to start reading, in Unix time seconds"', async () => {
    const topic = uniqueName('ts');
    await createTopics([{ topic, partitions: 1 }]);
    const t = Math.floor(Date.now() / 1000) - 600;
    await produce(topic, [
      { value: 'before', timestamp: String((t - 60) * 1000) },
      { value: 'at', timestamp: String(t * 1000) },
      { value: 'after', timestamp: String((t + 60) * 1000) },
    ]);
    const got = new Recorder();
    await source(topic, got, { startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: t }).start();
    await waitFor(() => got.delivered().length >= 2, '2 records');
    expect(got.values()).toEqual(['at', 'after']);
  });

  it('MSK consumer group: "Lambda … starts from the last committed offset" when the group has one — the starting position applies only where it has none', async () => {
    const topic = uniqueName('resume');
    await createTopics([{ topic, partitions: 1 }]);
    await produce(topic, [json(0), json(1), json(2), json(3)]);
    const group = uniqueName('g');
    await withAdmin((admin) =>
      admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '2' }] }),
    );
    const got = new Recorder();
    await source(topic, got, { startingPosition: 'LATEST' }, { group }).start();
    await waitFor(() => got.delivered().length >= 2, '2 records');
    expect(got.delivered()).toEqual(['0@2', '0@3']);
  });

  it('ESM Enabled: "when true, the event source mapping is active; when false, Lambda pauses polling"', async () => {
    const topic = uniqueName('off');
    await createTopics([{ topic, partitions: 1 }]);
    await produce(topic, [json(1)]);
    const off = new Recorder();
    const group = uniqueName('off');
    await source(topic, off, { enabled: false }, { group }).start();
    const control = new Recorder();
    await source(topic, control).start();
    await waitFor(() => control.delivered().length >= 1, 'an enabled source to see the record');
    const state = await withAdmin(async (admin) => (await admin.describeGroups([group])).groups[0]!);
    expect(state.members).toHaveLength(0);
    expect(off.invocations).toHaveLength(0);
  });

  it('ESM: "Lambda validates the event source mapping" — an invalid definition is refused with a message naming the setting', () => {
    expect(() => parseKafkaEventDefinition('fn', 'msk', { topic: 't', batchSize: 0 }, 'g')).toThrow(
      'function fn, msk event: batchSize must be a number from 1 to 10000',
    );
    expect(() =>
      parseKafkaEventDefinition('fn', 'msk', { topic: 't', destinations: { onFailure: 'kafka://t' } }, 'g'),
    ).toThrow('cannot be the source topic');
  });
});

describe('errors', () => {
  // Each failing invocation first asks the broker what the group has committed; that question must be
  // answered within the function's timeout, which is why only the timeout case has a short one (a loaded
  // machine took over a second to answer it).
  it.each([
    [
      'throws',
      () => {
        throw new Error('boom');
      },
      30,
    ],
    ['rejects', () => Promise.reject(new Error('rejected')), 30],
    ['runs past its timeout', () => sleep(4500), 4],
  ])(
    'MSK: "if the function returns an error, Lambda retries the batch until processing succeeds" — a handler that %s gets the same records again, nothing committed meanwhile',
    async (_, fail, timeout) => {
      const topic = uniqueName('retry');
      await createTopics([{ topic, partitions: 1 }]);
      await produce(topic, [json(1), json(2)]);
      const group = uniqueName('g');
      let failures = 2;
      // Recorded in the handler, asserted after it: an expectation failing inside would only be one more
      // handler failure, which this test provokes anyway.
      const committedDuringFailures: string[] = [];
      const got = new Recorder(async () => {
        if (failures-- > 0) {
          committedDuringFailures.push((await committed(group, topic))[0]!);
          await fail();
        }
      });
      await source(topic, got, {}, { group, timeout }).start();
      await waitFor(() => got.invocations.length >= 3, 'two retries');
      expect(committedDuringFailures).toEqual(['-1', '-1']);
      expect(got.invocations.map((i) => i.offsets)).toEqual([
        [0, 1],
        [0, 1],
        [0, 1],
      ]);
      await waitCommitted(group, topic, { 0: '2' });
      expect(got.lines.filter((l) => /ERROR|TIMEOUT/.test(l))).toHaveLength(2);
    },
  );

  it('RETRY/OFD: with MaximumRetryAttempts, "when Lambda can\'t process records after exhausting retry attempts … Lambda sends the failed records to the specified Kafka topic" with failure metadata, and the partition moves on', async () => {
    const topic = uniqueName('poison');
    const dlt = uniqueName('dlt');
    await createTopics([
      { topic, partitions: 1 },
      { topic: dlt, partitions: 1 },
    ]);
    await produce(topic, [{ key: 'p', value: 'poison', headers: { h: 'v' } }]);
    const group = uniqueName('g');
    const got = new Recorder((inv) => {
      if (inv.records.some((r) => Buffer.from(r.value!, 'base64').toString() === 'poison'))
        throw new Error('bad');
    });
    await source(
      topic,
      got,
      { maximumRetryAttempts: 2, destinations: { onFailure: `kafka://${dlt}` } },
      { group },
    ).start();
    const [failed] = await readTopic(dlt, 1);
    expect(failed!.key!.toString()).toBe('p');
    expect(failed!.value!.toString()).toBe('poison');
    expect(header(failed!, 'h')).toBe('v');
    const doc = JSON.parse(header(failed!, FAILURE_HEADER)!) as OnFailureRecord;
    expect(doc.requestContext).toMatchObject({
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 3,
    });
    expect(doc.KafkaBatchInfo).toMatchObject({
      topic,
      partition: 0,
      firstOffset: 0,
      lastOffset: 0,
      batchSize: 1,
    });
    expect(doc.responseContext.functionError).toBe('bad');
    expect(got.invocations).toHaveLength(3);
    await produce(topic, [json(1)]);
    await waitFor(() => got.delivered().includes('0@1'), 'the next record');
    await waitCommitted(group, topic, { 0: '2' });
  });

  it('RETRY: "MaximumRecordAgeInSeconds … Lambda discards records older than" it; they go to the destination with condition RecordAgeExceeded', async () => {
    const topic = uniqueName('old');
    const dlt = uniqueName('dlt');
    await createTopics([
      { topic, partitions: 1 },
      { topic: dlt, partitions: 1 },
    ]);
    await produce(topic, [{ value: 'old', timestamp: String(Date.now() - 120_000) }, { value: 'new' }]);
    const got = new Recorder();
    await source(topic, got, {
      batchSize: 1,
      maximumRecordAgeInSeconds: 60,
      destinations: { onFailure: `kafka://${dlt}` },
    }).start();
    const [failed] = await readTopic(dlt, 1);
    expect(failed!.value!.toString()).toBe('old');
    expect(JSON.parse(header(failed!, FAILURE_HEADER)!).requestContext.condition).toBe('RecordAgeExceeded');
    await waitFor(() => got.values().includes('new'), 'the young record');
    expect(got.values()).toEqual(['new']);
  });

  it('RETRY: BisectBatchOnFunctionError "splits the batch in two and retries each half separately" — only the failing record reaches the destination', async () => {
    const topic = uniqueName('bisect');
    const dlt = uniqueName('dlt');
    await createTopics([
      { topic, partitions: 1 },
      { topic: dlt, partitions: 1 },
    ]);
    await produce(
      topic,
      ['a', 'b', 'poison', 'd'].map((value) => ({ value })),
    );
    const ok: string[] = [];
    const got = new Recorder((inv) => {
      const values = inv.records.map((r) => Buffer.from(r.value!, 'base64').toString());
      if (values.includes('poison')) throw new Error('bad');
      ok.push(...values);
    });
    await source(topic, got, {
      batchSize: 4,
      maximumBatchingWindow: 1,
      maximumRetryAttempts: 0,
      bisectBatchOnFunctionError: true,
      destinations: { onFailure: `kafka://${dlt}` },
    }).start();
    const failed = await readTopic(dlt, 1);
    await waitFor(() => ok.length >= 3, 'the good records');
    expect(failed.map((m) => m.value!.toString())).toEqual(['poison']);
    expect(ok).toEqual(['a', 'b', 'd']);
  });
});

describe('filtering', () => {
  it('FILT: Kafka mappings "only support filtering on the value key", JSON or plain string; "Lambda doesn\'t send events that don\'t match the filter criteria to your function" and commits their offsets', async () => {
    const topic = uniqueName('filter');
    await createTopics([{ topic, partitions: 1 }]);
    await produce(topic, [
      json(1, { status: 500, path: '/api/a' }),
      json(2, { status: 200, path: '/api/b' }),
      { value: 'error' },
      { value: 'plain text' },
      json(3, { status: 503, path: '/static/c' }),
      json(4, { status: 404, path: '/API/d' }),
    ]);
    const group = uniqueName('g');
    const got = new Recorder();
    await source(
      topic,
      got,
      {
        filterPatterns: [
          { value: { status: [{ numeric: ['>=', 500] }], path: [{ prefix: '/api/' }] } },
          { value: { path: [{ 'equals-ignore-case': '/api/d' }] } },
          { value: [{ prefix: 'plain' }] },
        ],
      },
      { group },
    ).start();
    await waitCommitted(group, topic, { 0: '6' });
    expect(got.invocations.flatMap((i) => i.offsets)).toEqual([0, 3, 5]);
  });
});

describe('rebalancing and shutdown', () => {
  it('MSK: a consumer group member joining or leaving rebalances partitions; every record is still processed (at least once)', async () => {
    const topic = uniqueName('rebalance');
    await createTopics([{ topic, partitions: 4 }]);
    const group = uniqueName('shared');
    const a = new Recorder(() => sleep(10));
    const b = new Recorder(() => sleep(10));
    const first = source(topic, a, { batchSize: 5 }, { group, key: 'a' });
    await first.start();
    await produce(topic, jsonRange(200));
    await waitFor(() => a.delivered().length >= 20, 'the first member to start');
    await source(topic, b, { batchSize: 5 }, { group, key: 'b' }).start();
    await waitFor(
      async () =>
        withAdmin(async (admin) => {
          const g = (await admin.describeGroups([group])).groups[0]!;
          return g.members.length === 2 && g.state === 'Stable';
        }),
      'both members in a stable group',
    );
    await produce(topic, jsonRange(100, 500));
    await waitFor(() => b.delivered().length >= 1, 'the second member to get records');
    await first.stop();
    await produce(topic, jsonRange(40, 1000));
    await waitCommitted(group, topic, await highWatermarks(topic));
    const union = new Set([...a.delivered(), ...b.delivered()]);
    expect(union.size).toBe(340);
  });

  it('shutdown finishes the invocation in flight, commits it, and starts no other', async () => {
    const topic = uniqueName('stop');
    await createTopics([{ topic, partitions: 1 }]);
    await produce(topic, jsonRange(10));
    const group = uniqueName('g');
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const got = new Recorder(() => released);
    const s = source(topic, got, { batchSize: 5, maximumBatchingWindow: 1 }, { group });
    await s.start();
    await waitFor(() => got.invocations.length === 1, 'the first invocation');
    const stopping = s.stop();
    release();
    await stopping;
    expect(got.invocations).toHaveLength(1);
    expect(await committed(group, topic)).toEqual({ 0: '5' });
  });

  it('shutdown abandons a failing batch between retries and commits nothing of it', async () => {
    const topic = uniqueName('abandon');
    await createTopics([{ topic, partitions: 1 }]);
    await produce(topic, [json(1)]);
    const group = uniqueName('g');
    const got = new Recorder(() => {
      throw new Error('down');
    });
    const s = source(topic, got, {}, { group });
    await s.start();
    await waitFor(() => got.invocations.length >= 2, 'a retry');
    await s.stop();
    expect((await committed(group, topic))[0]).toBe('-1');
  });
});

describe('observability', () => {
  it('one log line per invocation with function, group, partition, offsets, count, duration and outcome', async () => {
    const topic = uniqueName('log');
    await createTopics([{ topic, partitions: 1 }]);
    await produce(topic, [json(1), json(2), json(3)]);
    const group = uniqueName('g');
    const got = new Recorder();
    await source(topic, got, { batchSize: 2 }, { group, key: 'logger' }).start();
    await waitFor(() => got.delivered().length >= 3, '3 records');
    const lines = got.lines.filter((l) => l.startsWith('(λ: logger)'));
    expect(lines).toHaveLength(got.invocations.length);
    expect(lines[0]).toMatch(
      new RegExp(
        `^\\(λ: logger\\) Kafka group ${group}  ${topic}-0 offsets 0\\.\\.1  2 records  Duration: \\d+\\.\\d\\d ms  OK$`,
      ),
    );
  });
});

describe('flow control (local only)', () => {
  it('pauses fetching a partition whose buffer is full and resumes it as batches complete, losing nothing', async () => {
    const topic = uniqueName('pause');
    await createTopics([{ topic, partitions: 1 }]);
    const got = new Recorder(() => sleep(2));
    await source(topic, got, { batchSize: 5 }, { maxBufferedRecords: 10 }).start();
    // Each wave overfills the buffer (pausing the partition); the next wave arrives only if it resumed.
    for (let wave = 1; wave <= 3; wave++) {
      await produce(topic, jsonRange(100));
      await waitFor(() => got.delivered().length >= wave * 100, `wave ${wave}`);
    }
    expect(got.invocations.flatMap((i) => i.offsets)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });
  it('holds no more than two batches plus one fetch per partition: fetching is seen paused on the consumer while the function is busy, and resumed as it catches up', async () => {
    const topic = uniqueName('bound');
    await createTopics([{ topic, partitions: 1 }]);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const got = new Recorder(() => gate);
    const fetchBytes = 64 * 1024;
    const s = source(topic, got, { batchSize: 10 }, { fetchBytesPerPartition: fetchBytes });
    await s.start();
    // 2,000 records of about 2 KiB: 4 MiB, far more than two batches plus one 64 KiB fetch.
    const total = 2000;
    const pad = 'x'.repeat(2000);
    // Sent 20 at a time: a fetch brings at least one whole record batch, so batches stay under the fetch size.
    for (let from = 0; from < total; from += 20) {
      await produce(
        topic,
        Array.from({ length: 20 }, (_, i) => ({ key: 'k', value: JSON.stringify({ n: from + i, pad }) })),
      );
    }
    const recordBytes = Buffer.byteLength(JSON.stringify({ n: total, pad })) + 1;
    const bound = s.bound.records + Math.ceil(fetchBytes / recordBytes) + 1;

    // What the partition holds, sampled throughout (an observation, not a wait).
    const samples: number[] = [];
    let heldAtPause = total;
    const sampler = setInterval(() => {
      const flow = s.flow()[0];
      if (flow) samples.push(flow.bufferedRecords);
    }, 20);
    try {
      const paused = await waitFor(() => s.flow().find((f) => f.paused), 'the consumer to pause partition 0');
      expect(paused.bufferedRecords).toBeLessThanOrEqual(bound);
      heldAtPause = paused.bufferedRecords + got.delivered().length;
      expect(got.invocations).toHaveLength(1); // the function is still busy with its first batch
      open();
      await waitFor(() => got.delivered().length >= total, `all ${total} records`, 60000);
    } finally {
      clearInterval(sampler);
      open();
    }
    expect(Math.max(...samples)).toBeLessThanOrEqual(bound);
    // Fetching resumed: when the pause was seen, most records were neither delivered nor held, and all came.
    expect(heldAtPause).toBeLessThan(total);
    // Paused and resumed again and again as the function fell behind and caught up.
    const flow = s.flow()[0]!;
    expect(flow.pauses).toBeGreaterThan(1);
    expect(flow.resumes).toBeGreaterThanOrEqual(flow.pauses - 1);
    expect(got.invocations.flatMap((i) => i.offsets)).toEqual(Array.from({ length: total }, (_, i) => i));
  });
});
