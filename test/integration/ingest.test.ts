/**
 * The ingest function against the real broker: lines in through an API Gateway event and a direct
 * invocation, records out on the topic (keyed, with headers), the bad line in the dead-letter topic.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyResult, Context } from 'aws-lambda';
import { loadConfig } from '../../shared/config';
import { DLQ_HEADER, HEADER, decodeRecordValue } from '../../shared/record/contract';
import { sampleEvent, sampleLog } from '../helpers/fixtures';
import { createTopics, header, readTopic, uniqueName } from '../helpers/kafka';
import { settledRecordCount } from '../helpers/quiescence';

const topic = uniqueName('ingest');
const deadLetterTopic = `${topic}-dlq`;
type Handler = typeof import('../../functions/ingest').handler;
let handler: Handler;
let producerModule: typeof import('../../shared/kafka/atomic-producer');

// A transaction, then waiting for the topic to be still (1.5 s) and reading it back, in each test.
jest.setTimeout(30000);

const context = (id: string) => ({ awsRequestId: id }) as Context;

beforeAll(async () => {
  process.env.KAFKA_TOPIC = topic;
  process.env.KAFKA_DLQ_TOPIC = deadLetterTopic;
  await createTopics([
    { topic, partitions: 3 },
    { topic: deadLetterTopic, partitions: 1 },
  ]);
  // The function reads its configuration once per container, at load: load it after the environment is set.
  /* eslint-disable @typescript-eslint/no-require-imports */
  handler = (require('../../functions/ingest') as typeof import('../../functions/ingest')).handler;
  producerModule =
    require('../../shared/kafka/atomic-producer') as typeof import('../../shared/kafka/atomic-producer');
  /* eslint-enable @typescript-eslint/no-require-imports */
});

afterAll(async () => {
  await producerModule.closeSharedAtomicProducer();
});

describe('ingest function', () => {
  const event = sampleEvent<APIGatewayProxyEventV2>('ingest-http-text.json');
  const bad = 'this is not an nginx line';

  it('produces one keyed record per line and dead-letters the line that is not nginx output', async () => {
    const response = (await handler(
      { ...event, body: `${sampleLog().join('\n')}\n${bad}\n` },
      context('req-http'),
    )) as APIGatewayProxyResult;
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ source: 'http:req-http', accepted: 4, rejected: 1 });

    const records = await readTopic(topic, 4);
    expect(await settledRecordCount(topic)).toBe(4);
    const byKey = new Map(records.map((r) => [r.key!.toString(), r]));
    expect([...byKey.keys()].sort()).toEqual(['192.168.1.1', '192.168.1.2', '192.168.1.3', '192.168.1.4']);
    for (const r of records) {
      const value = decodeRecordValue(r.value!);
      expect(value.remoteAddr).toBe(r.key!.toString());
      expect(sampleLog()).toContain(value.raw);
      expect(header(r, HEADER.source)).toBe('http:req-http');
      expect(header(r, HEADER.logFormat)).toBe('combined');
    }

    const [letter] = await readTopic(deadLetterTopic, 1);
    expect(await settledRecordCount(deadLetterTopic)).toBe(1);
    expect(letter!.value!.toString()).toBe(bad);
    expect(header(letter!, DLQ_HEADER.reason)).toContain('is not an IPv4 or IPv6 address');
    expect(header(letter!, DLQ_HEADER.position)).toBe('line 5');
    expect(header(letter!, DLQ_HEADER.stage)).toBe('parse');
  });

  it('keeps one client on one partition across requests, and reuses the producer when warm', async () => {
    const first = producerModule.sharedAtomicProducer(loadConfig());
    const line = sampleLog()[0]!;
    const result = await handler({ lines: [line, line] }, context('req-invoke'));
    expect(result).toMatchObject({ source: 'invoke:req-invoke', accepted: 2, rejected: 0 });
    expect(producerModule.sharedAtomicProducer(loadConfig())).toBe(first);

    const records = await readTopic(topic, 6);
    expect(await settledRecordCount(topic)).toBe(6);
    const partitions = new Set(
      records.filter((r) => r.key!.toString() === '192.168.1.1').map((r) => r.partition),
    );
    expect(partitions.size).toBe(1);
  });

  it('answers a bad HTTP request with a 4xx and a message, never a stack trace', async () => {
    const response = (await handler(
      { ...event, body: '{"lines": 3}', headers: { 'content-type': 'application/json' } },
      context('req-bad'),
    )) as APIGatewayProxyResult;
    expect(response.statusCode).toBe(400);
    const body = JSON.parse(response.body);
    expect(body.error).toContain('expected an object with a "lines" array');
    expect(response.body).not.toMatch(/at .*\.ts:\d+/);
  });

  it('throws a clear error for a bad direct invocation', async () => {
    await expect(handler({ lines: [] }, context('req-empty'))).rejects.toThrow('"lines" is empty');
  });
});
