/**
 * The producing side under real-size input, against the real broker: every scenario counts the lines the
 * answers acknowledged, the records in the topic (all that was written, and what a consumer sees), and
 * asserts they agree — nothing lost, nothing doubled, every answer true — and that the function answers
 * normally afterwards.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyResult, Context } from 'aws-lambda';
import { transactionOutcome } from '../../shared/kafka/atomic-producer';
import { createKafka } from '../../shared/kafka/client';
import { DLQ_HEADER } from '../../shared/record/contract';
import { sampleEvent } from '../helpers/fixtures';
import { brokers, createTopics, header, readTopic, uniqueName, withAdmin } from '../helpers/kafka';
import { timeLocal } from '../helpers/log-lines';
import { marksIn, realLog, topicRecords } from '../helpers/producing';
import { restartableBroker, type RestartableBroker } from '../helpers/restartable-broker';
import { waitFor } from '../helpers/wait';

jest.setTimeout(240000);

/** Lambda's timeout for the function (serverless.yml): every answer must come well before it. */
const FUNCTION_TIMEOUT_MS = 30000;

type Handler = typeof import('../../functions/ingest').handler;

const httpEvent = sampleEvent<APIGatewayProxyEventV2>('ingest-http-text.json');
let requests = 0;

const closers: Array<() => Promise<void>> = [];

/**
 * The ingest function as a fresh container would load it (its own modules, so its own producer), for a
 * topic: the function reads its configuration once, at load.
 */
function ingestFor(env: Record<string, string>): Handler {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  let handler: Handler | undefined;
  jest.isolateModules(() => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    handler = (require('../../functions/ingest') as typeof import('../../functions/ingest')).handler;
    const producers =
      require('../../shared/kafka/atomic-producer') as typeof import('../../shared/kafka/atomic-producer');
    /* eslint-enable @typescript-eslint/no-require-imports */
    closers.push(() => producers.closeSharedAtomicProducer());
  });
  process.env = saved;
  return handler!;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  ms: number;
}

async function post(
  handler: Handler,
  lines: string[],
  body?: Partial<APIGatewayProxyEventV2>,
): Promise<Answer> {
  const started = Date.now();
  const response = (await handler(
    {
      ...httpEvent,
      body: `${lines.join('\n')}\n`,
      headers: { 'content-type': 'text/plain' },
      isBase64Encoded: false,
      ...body,
    },
    { awsRequestId: `req-${++requests}` } as Context,
  )) as APIGatewayProxyResult;
  return { status: response.statusCode, body: JSON.parse(response.body), ms: Date.now() - started };
}

/**
 * What the answers said, per line mark: acknowledged (200), refused with nothing stored, or unknown (the
 * commit was under way when the broker vanished: all of that request or none of it).
 */
class Tally {
  readonly acknowledged = new Set<number>();
  readonly refused = new Set<number>();
  readonly unknown: number[][] = [];
  readonly answers: Answer[] = [];
  private next = 0;

  constructor(readonly tag: string) {}

  /** Posts `count` new lines and files them by the answer. */
  async post(handler: Handler, count: number): Promise<Answer> {
    const first = this.next;
    this.next += count;
    const marks = Array.from({ length: count }, (_, i) => first + i);
    const answer = await post(handler, realLog(count, this.tag, first));
    this.answers.push(answer);
    if (answer.status === 200) {
      expect(answer.body).toMatchObject({ accepted: count, rejected: 0 });
      marks.forEach((m) => this.acknowledged.add(m));
    } else {
      expect(answer.status).toBe(503);
      expect(['none', 'unknown']).toContain(answer.body.stored);
      if (answer.body.stored === 'none') marks.forEach((m) => this.refused.add(m));
      else this.unknown.push(marks);
    }
    return answer;
  }

  /** Every answer true: acknowledged lines visible once, refused ones never, unknown ones all or none. */
  async check(kafkaBrokers: string[], topic: string): Promise<string> {
    const visible = marksIn(await topicRecords(kafkaBrokers, topic), this.tag);
    const written = marksIn(await topicRecords(kafkaBrokers, topic, 'uncommitted'), this.tag);
    const doubled = [...visible].filter(([, n]) => n > 1).map(([m]) => m);
    const lost = [...this.acknowledged].filter((m) => !visible.has(m));
    const phantom = [...this.refused].filter((m) => visible.has(m));
    const torn = this.unknown.filter((g) => {
      const seen = g.filter((m) => visible.has(m)).length;
      return seen !== 0 && seen !== g.length;
    });
    const unknownVisible = this.unknown.filter((g) => visible.has(g[0]!)).reduce((a, g) => a + g.length, 0);
    const figures =
      `${this.answers.length} answers (${this.answers.filter((a) => a.status === 200).length} × 200, ` +
      `${this.answers.filter((a) => a.status !== 200).length} × 503, slowest ${Math.max(...this.answers.map((a) => a.ms))} ms): ` +
      `acknowledged ${this.acknowledged.size} lines, refused ${this.refused.size}, unknown ${this.unknown.flat().length} ` +
      `(${unknownVisible} of them stored); consumers see ${visible.size} distinct records, ` +
      `${[...visible.values()].reduce((a, b) => a + b, 0)} in all; ${[...written.values()].reduce((a, b) => a + b, 0)} written including aborted`;
    console.log(`${this.tag}: ${figures}`);
    expect({
      doubled: doubled.length,
      lost: lost.length,
      phantom: phantom.length,
      torn: torn.length,
    }).toEqual({
      doubled: 0,
      lost: 0,
      phantom: 0,
      torn: 0,
    });
    expect(visible.size).toBe(this.acknowledged.size + unknownVisible);
    for (const a of this.answers) expect(a.ms).toBeLessThan(FUNCTION_TIMEOUT_MS * 0.8);
    return figures;
  }
}

describe('real-size input on a healthy broker', () => {
  const topic = uniqueName('sized');
  const dlq = `${topic}-dlq`;
  let ingest: Handler;

  beforeAll(async () => {
    await createTopics([
      { topic, partitions: 3 },
      { topic: dlq, partitions: 1 },
    ]);
    ingest = ingestFor({ KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: dlq });
  });

  it('accepts a 20,000-line, 4.9 MB real log whole, every line once, and keeps answering afterwards', async () => {
    const tally = new Tally('big');
    expect(Buffer.byteLength(realLog(20000, 'big').join('\n'))).toBeGreaterThan(4 * 1024 * 1024);
    const big = await tally.post(ingest, 20000);
    expect(big.status).toBe(200);
    expect((await tally.post(ingest, 200)).status).toBe(200);
    await tally.check(brokers(), topic);
  });

  it('dead-letters a line too large for any record, with the reason and length, and stores the rest', async () => {
    const [line] = realLog(1, 'huge');
    // A request target of 1.5 MB: over the broker's 1 MB limit even as a dead letter.
    const huge = line!.replace('/huge/0/', `/huge/0/${'a'.repeat(1536 * 1024)}/`);
    // 600 KB: fits as a dead letter, but its record (fields + raw line) does not.
    const large = line!.replace('/huge/0/', `/huge/1/${'b'.repeat(600 * 1024)}/`);
    const ordinary = realLog(100, 'huge', 2);
    const answer = await post(ingest, [huge, ...ordinary, large]);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ accepted: 100, rejected: 2 });
    const letters = await readTopic(dlq, 2);
    const byLength = new Map(letters.map((l) => [header(l, DLQ_HEADER.position), l]));
    const first = byLength.get('line 1')!;
    // Refused by the parser's field limits (shared/nginx/limits.ts) before it could become a record.
    expect(header(first, DLQ_HEADER.reason)).toMatch(/request is \d+ characters long; at most \d+/);
    expect(header(first, DLQ_HEADER.originalLength)).toBe(String(Buffer.byteLength(huge)));
    expect(huge.startsWith(first.value!.toString())).toBe(true);
    const last = byLength.get('line 102')!;
    expect(last.value!.toString()).toBe(large);
    expect(header(last, DLQ_HEADER.originalLength)).toBeUndefined();
    expect(marksIn(await topicRecords(brokers(), topic), 'huge').size).toBe(100);
  });

  it('keeps the original bytes of a line that is not UTF-8 in its dead letter (a base64 body)', async () => {
    const bytes = Buffer.concat([
      Buffer.from('not nginx \xff\xfe '),
      Buffer.from([0xff, 0xfe, 0x80]),
      Buffer.from(' end'),
    ]);
    const body = Buffer.concat([Buffer.from(`${realLog(1, 'bytes')[0]}\n`), bytes, Buffer.from('\n')]);
    const answer = await post(ingest, [], {
      body: body.toString('base64'),
      isBase64Encoded: true,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ accepted: 1, rejected: 1 });
    const letters = await readTopic(dlq, 3);
    expect(letters.some((l) => l.value!.equals(bytes))).toBe(true);
  });

  it('answers a body over 6 MB with 413 and stores nothing of it', async () => {
    const lines = realLog(30000, 'over');
    const answer = await post(ingest, lines);
    expect(Buffer.byteLength(lines.join('\n'))).toBeGreaterThan(6 * 1024 * 1024);
    expect(answer.status).toBe(413);
    expect(answer.body.error).toMatch(/6 MB payload limit; nothing was stored/);
    expect(marksIn(await topicRecords(brokers(), topic, 'uncommitted'), 'over').size).toBe(0);
  });
});

it('fits its produce requests to a topic with a small max.message.bytes', async () => {
  const topic = uniqueName('small-limit');
  const dlq = `${topic}-dlq`;
  await withAdmin((admin) =>
    admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 3,
          replicationFactor: 1,
          configEntries: [{ name: 'max.message.bytes', value: '65536' }],
        },
        { topic: dlq, numPartitions: 1, replicationFactor: 1 },
      ],
      waitForLeaders: true,
    }),
  );
  const ingest = ingestFor({ KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: dlq });
  const tally = new Tally('small');
  expect((await tally.post(ingest, 3000)).status).toBe(200);
  await tally.check(brokers(), topic);
  // A line within the parser's field limits whose record (raw line beside its fields, about 105 KB) is over
  // this topic's 64 KB: a dead letter (the dead-letter topic takes 1 MB).
  const field = (c: string) => c.repeat(15000);
  const answer = await post(ingest, [
    `203.0.113.9 - - [${timeLocal(new Date())}] "GET /small-big/${field('c')} HTTP/1.1" 200 12 "https://r.example/${field('d')}" "${field('e')}"`,
  ]);
  expect(answer.body).toMatchObject({ accepted: 0, rejected: 1 });
  expect(String((answer.body.rejections as Array<{ reason: string }>)[0]!.reason)).toMatch(
    /over the \d+ bytes/,
  );
});

describe('what became of a transaction, found by re-initialising its transactional id', () => {
  const topic = uniqueName('settle');
  const kafka = () => createKafka({ brokers: brokers(), clientId: 'settle-test' });
  const transactional = (id: string) =>
    kafka().producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });

  beforeAll(() => createTopics([{ topic }]));

  // "left open": the producer went away after sending, as a container that died with its commit unsent or
  // unread; the coordinator aborts it when the id is initialised again.
  it.each([
    ['committed', 'committed'],
    ['aborted', 'aborted'],
    ['left open', 'aborted'],
  ] as const)('a transaction %s is found %s, and the topic agrees', async (end, expected) => {
    const id = uniqueName('settle-id');
    const first = transactional(id);
    await first.connect();
    const transaction = await first.transaction();
    const [answer] = await transaction.send({
      topic,
      messages: [
        { key: id, value: `${id} ${end}` },
        { key: id, value: `${id} second` },
      ],
      acks: -1,
    });
    if (end === 'committed') await transaction.commit();
    if (end === 'aborted') await transaction.abort();
    await first.disconnect();

    const k = kafka();
    const second = k.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
    await second.connect();
    try {
      const probe = { topic, partition: answer!.partition, baseOffset: answer!.baseOffset! };
      expect(await transactionOutcome(k, second, id, probe)).toBe(expected);
    } finally {
      await second.disconnect();
    }
    const visible = (await topicRecords(brokers(), topic)).filter((r) => r.value.startsWith(`${id} `));
    expect(visible).toHaveLength(expected === 'committed' ? 2 : 0);
  });
});

describe('broker faults (a broker of this test, on its own port)', () => {
  let broker: RestartableBroker;
  const topic = uniqueName('faults');
  const dlq = `${topic}-dlq`;
  let ingest: Handler;

  beforeAll(async () => {
    broker = await restartableBroker();
    await createTopics([{ topic }, { topic: dlq, partitions: 1 }], broker.brokers);
    ingest = ingestFor({ KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: dlq, KAFKA_BROKERS: broker.brokers.join(',') });
  });

  afterAll(async () => {
    await broker?.remove();
  });

  it('kill -9 mid-request: the answer comes fast and is true, and the first request after the restart succeeds', async () => {
    const tally = new Tally('killed');
    const first = await tally.post(ingest, 100);
    expect(first).toMatchObject({ status: 200 });
    const admin = createKafka({ brokers: broker.brokers, clientId: 'faults-test' }).admin();
    await admin.connect();
    const written = async () =>
      (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    const before = await written();
    const big = tally.post(ingest, 20000);
    await waitFor(async () => (await written()) > before, 'the big request to be writing', 60000, 20);
    await admin.disconnect().catch(() => undefined);
    await broker.kill();
    const answer = await big;
    await broker.start();
    const after = await tally.post(ingest, 200);
    console.log(
      `killed mid-request: answered ${answer.status} ${answer.body.stored ?? ''} in ${answer.ms} ms; first after restart ${after.status} in ${after.ms} ms`,
    );
    expect(after.status).toBe(200);
    await tally.check(broker.brokers, topic);
  });

  /**
   * Runs `request` and freezes the broker (SIGSTOP) the moment the producer sends the commit, before the
   * broker reads it; `then` decides what becomes of the frozen broker. Resolves with the answer.
   */
  async function frozenAtCommit(request: () => Promise<Answer>, then: () => Promise<void>): Promise<Answer> {
    const level = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'debug';
    let frozen: () => void = () => undefined;
    const atCommit = new Promise<void>((resolve) => (frozen = resolve));
    const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      if (String(args[0]).includes('"msg":"producer.committing"')) {
        broker.signal('SIGSTOP');
        frozen();
      }
    });
    try {
      const answer = request();
      await atCommit;
      log.mockRestore();
      process.env.LOG_LEVEL = level;
      await then();
      return await answer;
    } finally {
      log.mockRestore();
      process.env.LOG_LEVEL = level;
    }
  }

  it('kill -9 at the commit: settled (nothing stored) once the broker is back in time, unknown only if it is not', async () => {
    const tally = new Tally('commit-killed');
    expect((await tally.post(ingest, 100)).status).toBe(200);
    const answer = await frozenAtCommit(
      () => tally.post(ingest, 2000),
      async () => {
        await broker.kill();
        await broker.start();
      },
    );
    console.log(
      `killed at the commit: answered ${answer.status} ${String(answer.body.stored)} in ${answer.ms} ms`,
    );
    // The commit never reached the coordinator (the frozen broker had not read it). Once the broker is back
    // within the request's deadline the transaction is found aborted; a broker that takes longer to start
    // (a JVM on a loaded machine) leaves it unknown. Either way the tally below checks it against the topic.
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject(
      answer.body.stored === 'none'
        ? { kind: 'commit-aborted' }
        : { stored: 'unknown', kind: 'commit-unknown' },
    );
    expect((await tally.post(ingest, 100)).status).toBe(200);
    await tally.check(broker.brokers, topic);
  });

  it('a commit left unanswered by a frozen broker that then goes on: the answer is settled, not unknown', async () => {
    const tally = new Tally('commit-frozen');
    const answer = await frozenAtCommit(
      () => tally.post(ingest, 2000),
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 5000));
        broker.signal('SIGCONT');
      },
    );
    console.log(
      `frozen at the commit: answered ${answer.status} ${String(answer.body.stored)} in ${answer.ms} ms`,
    );
    expect(answer.body.stored).not.toBe('unknown');
    expect((await tally.post(ingest, 100)).status).toBe(200);
    await tally.check(broker.brokers, topic);
  });

  it('broker stopped for 20 s while requests keep coming: each answered 503 fast, then the first after it is back succeeds', async () => {
    const tally = new Tally('stopped');
    expect((await tally.post(ingest, 50)).status).toBe(200);
    await broker.stop();
    const stoppedAt = Date.now();
    while (Date.now() - stoppedAt < 20000) {
      const answer = await tally.post(ingest, 50);
      expect(answer.status).toBe(503);
      expect(answer.body.stored).toBe('none');
      expect(String(answer.body.error)).toMatch(/^Kafka (is unavailable|did not finish)/);
      expect(answer.ms).toBeLessThan(12000);
    }
    await broker.start();
    const after = await tally.post(ingest, 50);
    expect(after.status).toBe(200);
    await tally.check(broker.brokers, topic);
  });

  it('20 concurrent clients for 20 s, each its own function instance: every answer true', async () => {
    const tally = new Tally('concurrent');
    const instances = Array.from({ length: 20 }, () =>
      ingestFor({ KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: dlq, KAFKA_BROKERS: broker.brokers.join(',') }),
    );
    const until = Date.now() + 20000;
    await Promise.all(
      instances.map(async (instance) => {
        while (Date.now() < until) await tally.post(instance, 100);
      }),
    );
    expect(tally.answers.every((a) => a.status === 200)).toBe(true);
    await tally.check(broker.brokers, topic);
  });
});

afterAll(async () => {
  for (const close of closers) await close();
});
