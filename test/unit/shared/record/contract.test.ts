import { parseCombined } from '../../../../shared/nginx/combined';
import type { NginxRecord } from '../../../../shared/nginx/record';
import {
  decodeRecordValue,
  DLQ_HEADER,
  encodeDeadLetter,
  encodeRecord,
  FAILED_BATCH_HEADERS,
  HEADER,
  RECORD_VERSION,
  RecordError,
} from '../../../../shared/record/contract';
import { sampleLog } from '../../../helpers/fixtures';

const record = (() => {
  const result = parseCombined(sampleLog()[1]!);
  if (!result.ok) throw new Error(result.reason);
  return result.record;
})();

describe('encodeRecord', () => {
  const message = encodeRecord(record, { source: 'file:/var/log/nginx/access.log', logFormat: 'combined' });

  it('keys the record by client address so one client stays on one partition', () => {
    expect(message.key).toBe('192.168.1.2');
  });

  it('carries the version, content type, format and source as headers', () => {
    expect(message.headers).toEqual({
      [HEADER.version]: RECORD_VERSION,
      [HEADER.contentType]: 'application/json',
      [HEADER.logFormat]: 'combined',
      [HEADER.source]: 'file:/var/log/nginx/access.log',
    });
  });

  it('round-trips through decodeRecordValue, raw line included', () => {
    expect(decodeRecordValue(message.value as string)).toEqual(record);
  });
});

describe('decodeRecordValue refuses values that are not records, naming the field', () => {
  const value = (changes: Partial<Record<keyof NginxRecord, unknown>>) =>
    JSON.stringify({ ...record, ...changes });
  it.each([
    ['text', 'not json', 'value is not JSON'],
    ['an array', '[1,2]', 'value is not a JSON object'],
    ['a bad time', value({ time: 'yesterday' }), 'field time is not an ISO 8601 time'],
    ['a numeric address', value({ remoteAddr: 7 }), 'field remoteAddr is missing or not a string'],
    ['a textual status', value({ status: '200' }), 'field status is missing or not a number'],
    ['status 1200', value({ status: 1200 }), 'status 1200 is not an HTTP status nginx sends'],
    ['status 200.5', value({ status: 200.5 }), 'status 200.5 is not an HTTP status nginx sends'],
    ['negative bytes', value({ bodyBytesSent: -1 }), 'body bytes -1 is outside 0..1099511627776'],
    ['2^53-1 bytes', value({ bodyBytesSent: 2 ** 53 - 1 }), 'body bytes 9007199254740991 is outside'],
    ['a time in 9999', value({ time: '9999-12-31T23:59:59+00:00' }), 'is more than a day ahead of the clock'],
    ['a referrer of 20,000 characters', value({ referer: 'x'.repeat(20000) }), 'referer is 20000 characters'],
    ['an address that is not one', value({ remoteAddr: 'evil:{analytics}' }), 'is not an IPv4 or IPv6'],
    ['a numeric user agent', value({ userAgent: 5 }), 'field userAgent is not a string or null'],
  ])('%s', (_what, text, reason) => {
    const decode = () => decodeRecordValue(Buffer.from(text));
    expect(decode).toThrow(RecordError);
    expect(decode).toThrow(reason);
  });
});

describe('decodeRecordValue counts refusals by field, not by value', () => {
  it('gives a limit refusal a kind without the value in it', () => {
    const bytes = (n: number) => JSON.stringify({ ...record, bodyBytesSent: n });
    const kinds = [2 ** 41, 2 ** 50].map((n) => {
      try {
        decodeRecordValue(bytes(n));
      } catch (err) {
        return (err as RecordError).kind;
      }
      return 'decoded';
    });
    expect(kinds).toEqual([
      'field bodyBytesSent is beyond the limits',
      'field bodyBytesSent is beyond the limits',
    ]);
  });
});

describe('encodeDeadLetter', () => {
  it('keeps the original bytes untouched and says why, where from and when', () => {
    const original = Buffer.from([0x16, 0x03, 0x01, 0xff, 0x0a]);
    const message = encodeDeadLetter({
      original,
      reason: 'not nginx',
      stage: 'parse',
      source: 'file:/tmp/x.log',
      position: 'line 7',
      time: new Date('2024-11-11T12:00:00Z'),
    });
    expect(Buffer.compare(message.value as Buffer, original)).toBe(0);
    expect(message.key).toBe('file:/tmp/x.log');
    expect(message.headers).toMatchObject({
      [DLQ_HEADER.reason]: 'not nginx',
      [DLQ_HEADER.stage]: 'parse',
      [DLQ_HEADER.position]: 'line 7',
      [DLQ_HEADER.time]: '2024-11-11T12:00:00.000Z',
    });
  });
});

describe("FAILED_BATCH_HEADERS (the local event source's failureHeaders in serverless.yml)", () => {
  it('gives a record the event source gave up on every header a dead letter carries', () => {
    const letter = encodeDeadLetter({
      original: 'x',
      reason: 'r',
      stage: 'handler',
      source: 's',
      position: 'p',
    });
    expect(Object.keys(FAILED_BATCH_HEADERS).sort()).toEqual(Object.keys(letter.headers!).sort());
    expect(FAILED_BATCH_HEADERS).toMatchObject({
      [HEADER.version]: RECORD_VERSION,
      [DLQ_HEADER.stage]: 'handler',
      [DLQ_HEADER.position]: '{topic}-{partition}@{offset}',
    });
  });
});
