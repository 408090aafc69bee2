import type { MSKRecord } from 'aws-lambda';
import type { KafkaMessage } from 'kafkajs';
import { MAX_PAYLOAD_BYTES, splitByPayload } from '../../src/lambda-events/kafka-event';
import {
  destinationMessages,
  FAILURE_HEADER,
  onFailureRecord,
} from '../../src/lambda-events/on-failure-record';
import { invocationLine } from '../../src/invocation';

const rec = (offset: number, valueBytes: number): MSKRecord => ({
  topic: 't',
  partition: 0,
  offset,
  timestamp: 0,
  timestampType: 'CREATE_TIME',
  key: '',
  value: Buffer.alloc(valueBytes).toString('base64'),
  headers: [],
});

describe('splitByPayload', () => {
  it('keeps a batch under the limit whole', () => {
    const records = [rec(0, 10), rec(1, 10)];
    expect(splitByPayload(records)).toEqual([records]);
  });

  it('splits a batch over 6 MB into parts under it, in order', () => {
    const records = Array.from({ length: 10 }, (_, i) => rec(i, 1024 * 1024));
    const parts = splitByPayload(records);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.flat().map((r) => r.offset)).toEqual(records.map((r) => r.offset));
    for (const part of parts) expect(Buffer.byteLength(JSON.stringify(part))).toBeLessThan(MAX_PAYLOAD_BYTES);
  });

  it('sends a record larger than the limit alone', () => {
    const parts = splitByPayload([rec(0, 10), rec(1, 100), rec(2, 10)], 150 + 4096 + 200);
    expect(parts.map((p) => p.map((r) => r.offset))).toEqual([[0], [1], [2]]);
  });
});

describe('on-failure record', () => {
  const messages = [
    { offset: '7', timestamp: '1000', key: Buffer.from('k'), value: Buffer.from('v'), headers: { h: 'x' } },
    { offset: '8', timestamp: '2000', key: null, value: null, headers: {} },
  ] as unknown as KafkaMessage[];
  const doc = onFailureRecord({
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn',
    condition: 'RetryAttemptsExhausted',
    invokeCount: 3,
    error: 'boom',
    topic: 't',
    partition: 2,
    messages,
    now: new Date('2026-01-01T00:00:00Z'),
  });

  it("carries Lambda's failure metadata and the batch's coordinates", () => {
    expect(doc).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'boom' },
      version: '1.0',
      timestamp: '2026-01-01T00:00:00.000Z',
      KafkaBatchInfo: { batchSize: 2, topic: 't', partition: 2, firstOffset: 7, lastOffset: 8 },
    });
  });

  it('writes each failed record with its own key, value and headers plus the failure document', () => {
    const [first, second] = destinationMessages(doc, messages);
    expect(first!.key).toEqual(Buffer.from('k'));
    expect(first!.value).toEqual(Buffer.from('v'));
    expect(Object.keys(first!.headers!).sort()).toEqual([FAILURE_HEADER, 'h'].sort());
    expect(first!.headers!.h).toEqual(messages[0]!.headers!.h);
    expect(JSON.parse(String(first!.headers![FAILURE_HEADER]))).toEqual(doc);
    expect(second!.value).toBeNull();
  });

  it("adds the service's failure headers with each placeholder filled in for the record", () => {
    const [first, second] = destinationMessages(doc, messages, {
      stage: 'handler',
      where: '{topic}-{partition}@{offset}',
      why: '{condition}: {error}',
      when: '{time}',
      unknown: '{nope}',
    });
    expect(first!.headers).toMatchObject({
      h: messages[0]!.headers!.h,
      stage: 'handler',
      where: 't-2@7',
      why: 'RetryAttemptsExhausted: boom',
      when: '2026-01-01T00:00:00.000Z',
      unknown: '{nope}',
    });
    expect(second!.headers).toMatchObject({ where: 't-2@8' });
  });
});

describe('invocationLine', () => {
  it('names function, group, partition, offsets, count, duration and outcome', () => {
    const base = {
      functionKey: 'analytics',
      group: 'g',
      topic: 'nginx_logs',
      partition: 1,
      firstOffset: '10',
      lastOffset: '19',
      count: 10,
      durationMs: 3.456,
      attempt: 1,
    };
    expect(invocationLine({ ...base, outcome: 'ok' })).toBe(
      '(λ: analytics) Kafka group g  nginx_logs-1 offsets 10..19  10 records  Duration: 3.46 ms  OK',
    );
    expect(invocationLine({ ...base, outcome: 'timeout', attempt: 2, error: 'Task timed out' })).toMatch(
      /TIMEOUT \(attempt 2\): Task timed out$/,
    );
  });
});
