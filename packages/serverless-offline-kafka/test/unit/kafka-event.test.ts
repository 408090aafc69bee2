import type { MSKEvent, SelfManagedKafkaEvent } from 'aws-lambda';
import type { KafkaMessage } from 'kafkajs';
import { eventOf, lambdaRecord, lambdaRecords } from '../../src/lambda-events/kafka-event';

function message(offset: string, overrides: Partial<KafkaMessage> = {}): KafkaMessage {
  return {
    key: Buffer.from('10.0.0.1'),
    value: Buffer.from('{"a":1}'),
    timestamp: '1731327003000',
    attributes: 0,
    offset,
    headers: { source: Buffer.from('file:x'), trace: [Buffer.from('a'), Buffer.from('b')] },
    ...overrides,
  } as KafkaMessage;
}

/** The event the source builds for these messages of one partition: each made a record, then the event. */
function eventFor(
  definition: Parameters<typeof eventOf>[0],
  bootstrapServers: string,
  topic: string,
  partition: number,
  messages: KafkaMessage[],
): MSKEvent | SelfManagedKafkaEvent {
  const records = messages.map((m) => lambdaRecord(topic, partition, m));
  return eventOf(definition, bootstrapServers, topic, partition, records);
}

describe('eventOf', () => {
  const arn = 'arn:aws:kafka:us-east-1:000000000000:cluster/local/abc';

  it('builds the MSK shape: aws:kafka, ARN, bootstrap servers, records under topic-partition', () => {
    const event = eventFor(
      { eventSource: 'aws:kafka', eventSourceArn: arn },
      '127.0.0.1:9092,127.0.0.1:9093',
      'nginx_logs',
      2,
      [message('41'), message('42')],
    ) as MSKEvent;
    expect(event.eventSource).toBe('aws:kafka');
    expect(event.eventSourceArn).toBe(arn);
    expect(event.bootstrapServers).toBe('127.0.0.1:9092,127.0.0.1:9093');
    expect(Object.keys(event.records)).toEqual(['nginx_logs-2']);
    expect(event.records['nginx_logs-2']![0]).toEqual({
      topic: 'nginx_logs',
      partition: 2,
      offset: 41,
      timestamp: 1731327003000,
      timestampType: 'CREATE_TIME',
      key: Buffer.from('10.0.0.1').toString('base64'),
      value: Buffer.from('{"a":1}').toString('base64'),
      headers: [{ source: [...Buffer.from('file:x')] }, { trace: [97] }, { trace: [98] }],
    });
  });

  it('builds the self-managed shape without an ARN', () => {
    const event = eventFor({ eventSource: 'SelfManagedKafka' }, 'b:9092', 't', 0, [message('0')]);
    expect(event).toMatchObject({ eventSource: 'SelfManagedKafka', bootstrapServers: 'b:9092' });
    expect('eventSourceArn' in event).toBe(false);
    expect((event as SelfManagedKafkaEvent).records['t-0']).toHaveLength(1);
  });

  it('leaves out a null key and a null value, and marks broker timestamps', () => {
    const record = lambdaRecord('t', 0, message('3', { key: null, value: null, attributes: 0x08 }));
    expect('key' in record).toBe(false);
    expect('value' in record).toBe(false);
    expect(record.timestampType).toBe('LOG_APPEND_TIME');
  });

  it('decodes back to the same bytes: base64 value, headers as byte lists in order', () => {
    const event = eventFor({ eventSource: 'aws:kafka', eventSourceArn: arn }, 'b:1', 't', 1, [
      message('7', { value: Buffer.from([0, 255, 10]) }),
    ]);
    const [record] = event.records['t-1']!;
    expect([...Buffer.from(record!.value!, 'base64')]).toEqual([0, 255, 10]);
    const headers = record!.headers.flatMap((h) =>
      Object.entries(h).map(([k, bytes]) => `${k}=${Buffer.from(bytes).toString()}`),
    );
    expect(headers).toEqual(['source=file:x', 'trace=a', 'trace=b']);
  });

  it('gives the records of a batch one header object per equal header, each record its own list', () => {
    const messages = [
      message('1'),
      message('2'),
      message('3', {
        headers: { source: Buffer.from('file:y'), trace: [Buffer.from('a'), Buffer.from('b')] },
      }),
      message('4', { headers: { source: 'file:y' } }),
    ];
    const records = lambdaRecords('t', 0, messages);
    // As JSON (what Lambda sends), the same as records made one by one.
    expect(JSON.parse(JSON.stringify(records))).toEqual(messages.map((m) => lambdaRecord('t', 0, m)));
    const [first, second, third, fourth] = records;
    expect(second!.headers).not.toBe(first!.headers);
    expect(second!.headers[0]).toBe(first!.headers[0]);
    expect(third!.headers[0]).not.toBe(second!.headers[0]);
    expect(fourth!.headers[0]).toBe(third!.headers[0]);
    expect(Buffer.from(fourth!.headers[0]!.source!).toString()).toBe('file:y');
  });
});
