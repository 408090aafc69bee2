import { parseCombined } from '../../../../shared/nginx/combined';
import { LIMITS, outOfLimits } from '../../../../shared/nginx/limits';
import { compileLogFormat } from '../../../../shared/nginx/log-format';
import { sampleLog } from '../../../helpers/fixtures';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const line = (fields: { time?: string; status?: string; bytes?: string; agent?: string; addr?: string }) =>
  `${fields.addr ?? '203.0.113.9'} - - [${fields.time ?? '02/Dec/2026:11:59:00 +0000'}] "GET / HTTP/1.1" ` +
  `${fields.status ?? '200'} ${fields.bytes ?? '512'} "-" "${fields.agent ?? 'curl/8.5.0'}"`;

function reason(text: string): string | null {
  const result = parseCombined(text);
  if (!result.ok) return result.reason;
  return outOfLimits(result.record, NOW)?.reason ?? null;
}

describe('the limits real nginx output respects, refused with a reason by the combined parser', () => {
  it.each([
    [
      '2^53-1 body bytes',
      { bytes: String(2 ** 53 - 1) },
      'body bytes 9007199254740991 is outside 0..1099511627776',
    ],
    ['a body of a byte over 1 TiB', { bytes: String(2 ** 40 + 1) }, 'is outside 0..1099511627776'],
    ['status 600', { status: '600' }, 'status 600 is not an HTTP status nginx sends'],
    ['status 099', { status: '099' }, 'status 99 is not an HTTP status nginx sends'],
    ['31/Dec/9999', { time: '31/Dec/9999:23:59:59 +0000' }, 'is more than a day ahead of the clock'],
    [
      'a time eleven years ago',
      { time: '01/Dec/2015:00:00:00 +0000' },
      'more than ten years before the clock',
    ],
    ['a user agent of 20,000 characters', { agent: 'a'.repeat(20000) }, 'userAgent is 20000 characters long'],
  ])('%s', (_what, fields, expected) => {
    const text = line(fields);
    // The parser checks against the real clock; the same check against a fixed clock gives the same answer.
    expect(reason(text)).toContain(expected);
    expect(outOfLimits(JSON.parse(JSON.stringify(recordOf(line({})))), NOW)).toBeNull();
  });

  it('accepts the largest values real nginx writes: 1 TiB, status 599, a day ahead, 16 KiB fields', () => {
    const text = line({ bytes: String(LIMITS.bodyBytes), status: '599', agent: 'a'.repeat(LIMITS.field) });
    const record = recordOf(text);
    expect(outOfLimits(record, NOW)).toBeNull();
    expect(outOfLimits({ ...record, time: '2026-12-03T11:59:00+00:00' }, NOW)).toBeNull();
    expect(outOfLimits({ ...record, time: '2026-12-03T12:01:00+00:00' }, NOW)?.field).toBe('time');
  });

  it('keeps the seed report lines', () => {
    expect(sampleLog().map((l) => parseCombined(l).ok)).toEqual([true, true, true, true]);
  });
});

describe('the same limits in a custom log_format', () => {
  const format = compileLogFormat('$remote_addr [$msec] "$request" $status $body_bytes_sent');
  it('refuses 2^53-1 bytes and a far-future $msec with the same reasons', () => {
    const now = (Date.now() / 1000).toFixed(3);
    expect(format.parse(`203.0.113.9 [${now}] "GET / HTTP/1.1" 200 9007199254740991`)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('body bytes 9007199254740991 is outside'),
    });
    expect(format.parse(`203.0.113.9 [253402300799.000] "GET / HTTP/1.1" 200 5`)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('more than a day ahead of the clock'),
    });
  });

  it('refuses a $msec no date can hold instead of throwing', () => {
    expect(format.parse(`203.0.113.9 [99999999999999999999] "GET / HTTP/1.1" 200 5`)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('is not valid'),
    });
  });
});

function recordOf(text: string) {
  const result = parseCombined(text);
  if (!result.ok) throw new Error(result.reason);
  return result.record;
}
