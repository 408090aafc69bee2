import { parseCombined } from '../../../../shared/nginx/combined';
import { HEADER, RECORD_VERSION } from '../../../../shared/record/contract';
import type { DeliveredRecord, NginxBatch } from '../../../../shared/record/kafka-event';
import { summarizeBatch } from '../../../../shared/consumer/batch-summary';

const line = (address: string, path: string, status: number) =>
  `${address} - - [03/Dec/2026:10:00:00 +0000] "GET ${path} HTTP/1.1" ${status} 100 "-" "curl/8"`;

function delivered(
  partition: number,
  offset: number,
  headers: Array<[string, Buffer]>,
  topic = 'nginx_logs',
): DeliveredRecord {
  return {
    topic,
    partition,
    offset,
    timestamp: 0,
    timestampType: 'CREATE_TIME',
    key: null,
    value: null,
    headers,
  };
}

function record(address: string, path: string, status: number) {
  const parsed = parseCombined(line(address, path, status));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.record;
}

describe('summarizeBatch', () => {
  // Shared Buffers, as the local event source delivers them, and a copy of equal bytes, as on AWS.
  const fileA = Buffer.from('file:a.log');
  const version = Buffer.from(RECORD_VERSION);
  const shared: Array<[string, Buffer]> = [
    [HEADER.version, version],
    [HEADER.source, fileA],
  ];

  const batch: NginxBatch = {
    records: [
      { record: record('10.0.0.1', '/a', 200), delivered: delivered(0, 7, shared) },
      { record: record('10.0.0.2', '/a', 404), delivered: delivered(1, 3, shared) },
      {
        record: record('10.0.0.1', '/b', 503),
        delivered: delivered(0, 5, [
          [HEADER.version, Buffer.from(RECORD_VERSION)],
          [HEADER.source, Buffer.from('file:a.log')],
        ]),
      },
      {
        record: record('10.0.0.3', '/a', 200),
        delivered: delivered(0, 9, [
          [HEADER.version, Buffer.from('0')],
          [HEADER.source, Buffer.from('ingest:r1')],
        ]),
      },
      { record: record('10.0.0.3', '/c', 200), delivered: delivered(1, 4, []) },
      { record: record('10.0.0.4', '/c', 301), delivered: delivered(0, 6, shared, 'other') },
    ],
    invalid: [{ delivered: delivered(1, 2, shared), reason: 'value is not JSON', kind: 'value is not JSON' }],
  };

  it('counts partitions (records and invalid ones, interleaved), statuses, clients, paths and sources', () => {
    expect(summarizeBatch(batch)).toEqual({
      records: 6,
      invalid: 1,
      partitions: {
        'nginx_logs-0': { first: 5, last: 9, count: 3 },
        'nginx_logs-1': { first: 2, last: 4, count: 3 },
        'other-0': { first: 6, last: 6, count: 1 },
      },
      statuses: { '2xx': 3, '3xx': 1, '4xx': 1, '5xx': 1 },
      bytes: 600,
      clients: 4,
      topPaths: [
        ['/a', 3],
        ['/c', 2],
        ['/b', 1],
      ],
      sources: { 'file:a.log': 4, 'ingest:r1': 1, unknown: 1 },
      otherVersions: 2,
    });
  });
});
