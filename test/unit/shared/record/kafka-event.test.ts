import type { MSKEvent, SelfManagedKafkaEvent } from 'aws-lambda';
import { HEADER } from '../../../../shared/record/contract';
import {
  decodeNginxBatch,
  deliveredRecords,
  headerText,
  isKafkaEvent,
} from '../../../../shared/record/kafka-event';
import { sampleEvent, sampleLog } from '../../../helpers/fixtures';

const msk = sampleEvent<MSKEvent>('msk-nginx-logs.json');

describe('deliveredRecords', () => {
  it('flattens every partition of the event, decoding base64 key and value', () => {
    const records = deliveredRecords(msk);
    expect(records.map((r) => `${r.topic}-${r.partition}@${r.offset}`)).toEqual([
      'nginx_logs-0@0',
      'nginx_logs-0@1',
      'nginx_logs-1@0',
      'nginx_logs-1@1',
    ]);
    expect(records[0]!.key!.toString()).toBe('192.168.1.1');
  });

  it('turns byte-array headers back into text', () => {
    const [first] = deliveredRecords(msk);
    expect(headerText(first!, HEADER.source)).toBe('file:events/access.log');
    expect(headerText(first!, 'absent')).toBeUndefined();
  });

  it('keeps repeated header keys in order and binary values intact', () => {
    const event: MSKEvent = {
      ...msk,
      records: {
        't-0': [
          {
            topic: 't',
            partition: 0,
            offset: 5,
            timestamp: 1,
            timestampType: 'LOG_APPEND_TIME',
            key: undefined as unknown as string,
            value: undefined as unknown as string,
            headers: [{ trace: [1, 2] }, { trace: [255, 0] }, { other: [] }],
          },
        ],
      },
    };
    const [record] = deliveredRecords(event);
    expect(record!.key).toBeNull();
    expect(record!.value).toBeNull();
    expect(record!.headers.map(([k, v]) => [k, [...v]])).toEqual([
      ['trace', [1, 2]],
      ['trace', [255, 0]],
      ['other', []],
    ]);
  });

  it('reads headers whose byte lists several records share (as the local event source sends them) per record', () => {
    const source = [...Buffer.from('file:a.log')];
    const version = { 'record-version': [49] };
    const record = (offset: number, headers: MSKEvent['records'][string][number]['headers']) => ({
      topic: 't',
      partition: 0,
      offset,
      timestamp: 1,
      timestampType: 'CREATE_TIME' as const,
      key: Buffer.from('10.0.0.1').toString('base64'),
      value: Buffer.from('{}').toString('base64'),
      headers,
    });
    const event: MSKEvent = {
      ...msk,
      records: {
        't-0': [
          record(0, [version, { source }]),
          record(1, [version, { source }]),
          record(2, [version, { source: [...Buffer.from('file:b.log')] }]),
        ],
      },
    };
    const records = deliveredRecords(event);
    expect(records.map((r) => headerText(r, HEADER.source))).toEqual([
      'file:a.log',
      'file:a.log',
      'file:b.log',
    ]);
    expect(records.map((r) => headerText(r, HEADER.version))).toEqual(['1', '1', '1']);
    expect(records[0]!.headers).not.toBe(records[1]!.headers);
  });
});

describe('decodeNginxBatch', () => {
  it('decodes the sample MSK event to the seed report lines', () => {
    const batch = decodeNginxBatch(msk);
    expect(batch.invalid).toEqual([]);
    expect(batch.records.map((r) => r.record.raw)).toEqual(sampleLog());
  });

  it('decodes the self-managed Kafka sample the same way', () => {
    const event = sampleEvent<SelfManagedKafkaEvent>('self-managed-kafka-nginx-logs.json');
    expect(isKafkaEvent(event)).toBe(true);
    expect(decodeNginxBatch(event).records).toHaveLength(4);
  });

  it('sets aside tombstones and values that are not records, with reasons', () => {
    const [good] = msk.records['nginx_logs-0']!;
    const event: MSKEvent = {
      ...msk,
      records: {
        'nginx_logs-0': [
          good!,
          { ...good!, offset: 9, value: Buffer.from('{"nope":1}').toString('base64') },
          { ...good!, offset: 10, value: undefined as unknown as string },
        ],
      },
    };
    const batch = decodeNginxBatch(event);
    expect(batch.records).toHaveLength(1);
    expect(batch.invalid.map((i) => [i.delivered.offset, i.reason])).toEqual([
      [9, 'field time is missing or not a string'],
      [10, 'tombstone: record has no value'],
    ]);
  });

  it('isKafkaEvent tells Kafka events from others', () => {
    expect(isKafkaEvent(msk)).toBe(true);
    expect(isKafkaEvent({ Records: [] })).toBe(false);
    expect(isKafkaEvent(null)).toBe(false);
  });
});
