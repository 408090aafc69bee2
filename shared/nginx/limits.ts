/**
 * What a real nginx access-log record can hold, checked in this one place: the parsers call it before a
 * line becomes a record, and the record decoder calls it again on every record a consumer receives (a
 * producer that skipped the parser is not trusted either). A record outside these limits is refused with
 * the reason, which travels to the dead-letter topic with the original bytes.
 */
import { isIP } from 'node:net';
import type { NginxRecord } from './record';
import { isoTimeMs } from './time-local';

export const LIMITS = {
  /** `$body_bytes_sent` of one response: 1 TiB. Far above any real response, far below what a counter holds. */
  bodyBytes: 2 ** 40,
  /** A record may be dated at most this far ahead of the clock of whoever checks it (clock skew, offsets). */
  futureMs: 24 * 60 * 60 * 1000,
  /** ... and at most this far back (archived logs may be shipped late; older than this is not nginx's). */
  pastMs: 10 * 366 * 24 * 60 * 60 * 1000,
  /**
   * Request line, referrer, user agent and remote user, in characters: nginx reads a request line or a
   * header into one buffer of large_client_header_buffers (8k by default); 16 KiB leaves room for a larger
   * buffer and for escapes that do not decode.
   */
  field: 16 * 1024,
  /** The raw line: the fields above plus escapes (nginx writes a byte as up to four characters). */
  line: 256 * 1024,
  /** Variables of a custom log_format kept in `extra`, and the length of each value. */
  extraCount: 64,
  /** `$remote_addr`: the longest IPv6 text, or `unix:` and a socket path. */
  address: 128,
} as const;

/** `$status`: 0 where the log format has no `$status`, else what nginx sends (100-599, with 444, 499, ...). */
function validStatus(status: number): boolean {
  return status === 0 || (status >= 100 && status <= 599);
}

export function validAddress(address: string): boolean {
  return address.length <= LIMITS.address && (isIP(address) !== 0 || address.startsWith('unix:'));
}

const TEXT_FIELDS = ['request', 'remoteUser', 'referer', 'userAgent'] as const;

/** A value beyond the limits: the field it is in (a bounded vocabulary to count refusals by) and why. */
export interface Beyond {
  field: keyof NginxRecord;
  reason: string;
}

/**
 * The first value of the record that real nginx output cannot hold; null when every value is within the
 * limits. `now` is the checker's clock in milliseconds.
 */
export function outOfLimits(record: NginxRecord, now = Date.now()): Beyond | null {
  if (!validAddress(record.remoteAddr)) {
    const reason = `client address ${JSON.stringify(record.remoteAddr.slice(0, 64))} is not an IPv4 or IPv6 address`;
    return { field: 'remoteAddr', reason };
  }
  const at = isoTimeMs(record.time);
  // Written out only for a refusal's reason: most records are within the limits.
  const clock = () => new Date(now).toISOString();
  if (Number.isNaN(at)) {
    return { field: 'time', reason: `time ${JSON.stringify(record.time.slice(0, 40))} is not a time` };
  }
  if (at > now + LIMITS.futureMs) {
    return {
      field: 'time',
      reason: `time ${record.time} is more than a day ahead of the clock (${clock()})`,
    };
  }
  if (at < now - LIMITS.pastMs) {
    return {
      field: 'time',
      reason: `time ${record.time} is more than ten years before the clock (${clock()})`,
    };
  }
  if (!Number.isInteger(record.status) || !validStatus(record.status)) {
    return { field: 'status', reason: `status ${record.status} is not an HTTP status nginx sends (100-599)` };
  }
  const bytes = record.bodyBytesSent;
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > LIMITS.bodyBytes) {
    return {
      field: 'bodyBytesSent',
      reason: `body bytes ${bytes} is outside 0..${LIMITS.bodyBytes} (1 TiB)`,
    };
  }
  for (const field of TEXT_FIELDS) {
    const value = record[field];
    if (value !== null && value.length > LIMITS.field) {
      return { field, reason: `${field} is ${value.length} characters long; at most ${LIMITS.field}` };
    }
  }
  if (record.raw.length > LIMITS.line) {
    return {
      field: 'raw',
      reason: `the line is ${record.raw.length} characters long; at most ${LIMITS.line}`,
    };
  }
  const extra = record.extra === undefined ? [] : Object.values(record.extra);
  if (extra.length > LIMITS.extraCount) {
    return {
      field: 'extra',
      reason: `the line has ${extra.length} extra variables; at most ${LIMITS.extraCount}`,
    };
  }
  if (extra.some((value) => typeof value !== 'string' || value.length > LIMITS.field)) {
    return { field: 'extra', reason: `an extra variable is not text of at most ${LIMITS.field} characters` };
  }
  return null;
}
