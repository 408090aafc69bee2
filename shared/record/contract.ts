/**
 * The record contract of the `nginx_logs` topic and its dead-letter topic. Producers (the ingest function,
 * the shipper) and consumers (every Kafka-triggered function) go through this module and nowhere else,
 * so a change to the contract is one change here with a new RECORD_VERSION.
 *
 * nginx_logs: key = client address (one client's requests stay in order on one partition);
 *             value = UTF-8 JSON of NginxRecord (fields plus the raw line);
 *             headers = record-version, content-type, log-format, source.
 * dead letter: key = the source; value = the original bytes, untouched;
 *             headers = record-version, dlq-reason, dlq-stage, dlq-source, dlq-position, dlq-time.
 */
import type { Message } from 'kafkajs';
import { outOfLimits } from '../nginx/limits';
import type { NginxRecord } from '../nginx/record';

export const RECORD_VERSION = '1';

export const HEADER = {
  version: 'record-version',
  contentType: 'content-type',
  logFormat: 'log-format',
  source: 'source',
} as const;

export const DLQ_HEADER = {
  reason: 'dlq-reason',
  stage: 'dlq-stage',
  source: 'dlq-source',
  position: 'dlq-position',
  time: 'dlq-time',
  /** Only on a dead letter whose original was too large to keep whole: the original's length in bytes. */
  originalLength: 'dlq-original-length',
} as const;

/** Where a line came from: `file:<path>`, `ingest:<request id>`, `invoke:<request id>`, ... */
export interface LineOrigin {
  source: string;
  logFormat: string;
}

export function encodeRecord(record: NginxRecord, origin: LineOrigin): Message {
  return {
    key: record.remoteAddr,
    value: JSON.stringify(record),
    headers: {
      [HEADER.version]: RECORD_VERSION,
      [HEADER.contentType]: 'application/json',
      [HEADER.logFormat]: origin.logFormat,
      [HEADER.source]: origin.source,
    },
  };
}

/** Why a record is in the dead-letter topic. */
export type DeadLetterStage = 'parse' | 'decode' | 'handler';

export interface DeadLetter {
  /** The bytes as received: a log line, or the value of a Kafka record. */
  original: Buffer | string | null;
  reason: string;
  stage: DeadLetterStage;
  /** The same vocabulary as the `source` header: file path, ingest request, or topic. */
  source: string;
  /** Line number, byte offset, or `<topic>-<partition>@<offset>`. */
  position: string;
  time?: Date;
  /** Set when `original` holds only the first bytes of a line too large for the dead-letter topic. */
  originalLength?: number;
}

export function encodeDeadLetter(letter: DeadLetter): Message {
  return {
    key: letter.source,
    value: letter.original === null ? null : Buffer.from(letter.original),
    headers: {
      [HEADER.version]: RECORD_VERSION,
      [DLQ_HEADER.reason]: letter.reason,
      [DLQ_HEADER.stage]: letter.stage,
      [DLQ_HEADER.source]: letter.source,
      [DLQ_HEADER.position]: letter.position,
      [DLQ_HEADER.time]: (letter.time ?? new Date()).toISOString(),
      ...(letter.originalLength !== undefined
        ? { [DLQ_HEADER.originalLength]: String(letter.originalLength) }
        : {}),
    },
  };
}

/**
 * The same headers on records the local Kafka event source (serverless-offline-kafka) writes to an
 * on-failure destination, as that plugin's `failureHeaders` templates: serverless.yml reads them from here.
 */
export const FAILED_BATCH_HEADERS: Record<string, string> = {
  [HEADER.version]: RECORD_VERSION,
  [DLQ_HEADER.reason]: '{condition}: {error}',
  [DLQ_HEADER.stage]: 'handler' satisfies DeadLetterStage,
  [DLQ_HEADER.source]: '{topic}',
  [DLQ_HEADER.position]: '{topic}-{partition}@{offset}',
  [DLQ_HEADER.time]: '{time}',
};

export class RecordError extends Error {
  /** The reason without the values in it, from a small fixed set: what failures are counted by. */
  readonly kind: string;
  constructor(reason: string, kind = reason) {
    super(reason);
    this.kind = kind;
  }
}

function isStringOrNull(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

/** Parses and checks a record value; throws RecordError naming the first field that is wrong. */
export function decodeRecordValue(value: Buffer | string, now = Date.now()): NginxRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    throw new RecordError('value is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RecordError('value is not a JSON object');
  }
  const r = parsed as Record<string, unknown>;
  for (const field of ['time', 'remoteAddr', 'request', 'raw'] as const) {
    if (typeof r[field] !== 'string') throw new RecordError(`field ${field} is missing or not a string`);
  }
  if (Number.isNaN(Date.parse(r.time as string))) throw new RecordError('field time is not an ISO 8601 time');
  for (const field of [
    'remoteUser',
    'method',
    'path',
    'query',
    'protocol',
    'referer',
    'userAgent',
  ] as const) {
    if (!isStringOrNull(r[field])) throw new RecordError(`field ${field} is not a string or null`);
  }
  for (const field of ['status', 'bodyBytesSent'] as const) {
    if (typeof r[field] !== 'number') throw new RecordError(`field ${field} is missing or not a number`);
  }
  if (r.extra !== undefined && (typeof r.extra !== 'object' || r.extra === null || Array.isArray(r.extra))) {
    throw new RecordError('field extra is not an object');
  }
  const record = parsed as NginxRecord;
  // The same limits the parsers apply: a producer that skipped the parser is held to them too.
  const beyond = outOfLimits(record, now);
  if (beyond !== null) throw new RecordError(beyond.reason, `field ${beyond.field} is beyond the limits`);
  return record;
}
