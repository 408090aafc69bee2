/**
 * The one place that reads the event Lambda delivers for Amazon MSK (`eventSource: "aws:kafka"`) and
 * self-managed Kafka (`"SelfManagedKafka"`): records grouped under `"<topic>-<partition>"`, key and value in
 * base64, headers as a list of one-key objects whose values are byte arrays.
 */
import type { MSKEvent, SelfManagedKafkaEvent } from 'aws-lambda';
import type { NginxRecord } from '../nginx/record';
import { decodeRecordValue, RecordError } from './contract';

export type KafkaEvent = MSKEvent | SelfManagedKafkaEvent;

export interface DeliveredRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: string;
  /** Null when the record had no key. */
  key: Buffer | null;
  /** Null for a tombstone. */
  value: Buffer | null;
  /** In delivery order; a key may repeat. */
  headers: Array<[string, Buffer]>;
}

export function isKafkaEvent(event: unknown): event is KafkaEvent {
  if (typeof event !== 'object' || event === null) return false;
  const e = event as Record<string, unknown>;
  return (
    (e.eventSource === 'aws:kafka' || e.eventSource === 'SelfManagedKafka') &&
    typeof e.records === 'object' &&
    e.records !== null
  );
}

/**
 * All records of the event, partition by partition, each partition in offset order as delivered. A header
 * byte list that several records of the event share (the local event source shares equal ones) becomes one
 * Buffer that those records share: read them, never write into them.
 */
export function deliveredRecords(event: KafkaEvent): DeliveredRecord[] {
  const out: DeliveredRecord[] = [];
  const buffers = new Map<number[], Buffer>();
  const bufferOf = (bytes: number[]): Buffer => {
    let buffer = buffers.get(bytes);
    if (buffer === undefined) {
      buffer = Buffer.from(bytes);
      buffers.set(bytes, buffer);
    }
    return buffer;
  };
  for (const batch of Object.values(event.records)) {
    for (const r of batch) {
      // Lambda leaves out `key` and `value` when the record has none; the @types say string.
      const key = r.key as string | undefined | null;
      const value = r.value as string | undefined | null;
      const headers: Array<[string, Buffer]> = [];
      for (const header of r.headers ?? []) {
        for (const name in header) headers.push([name, bufferOf(header[name]!)]);
      }
      out.push({
        topic: r.topic,
        partition: r.partition,
        offset: Number(r.offset),
        timestamp: r.timestamp,
        timestampType: r.timestampType,
        key: key == null ? null : Buffer.from(key, 'base64'),
        value: value == null ? null : Buffer.from(value, 'base64'),
        headers,
      });
    }
  }
  return out;
}

/**
 * Per header name asked for, the last Buffer decoded and its text: the records of a batch share their header
 * Buffers (deliveredRecords makes one per byte list the event shares), so a run of records decodes each once.
 */
const lastDecoded = new Map<string, { bytes: Buffer; text: string }>();

export function headerText(record: DeliveredRecord, name: string): string | undefined {
  const found = record.headers.find(([key]) => key === name);
  if (!found) return undefined;
  const last = lastDecoded.get(name);
  if (last?.bytes === found[1]) return last.text;
  const text = found[1].toString('utf8');
  lastDecoded.set(name, { bytes: found[1], text });
  return text;
}

export function position(record: Pick<DeliveredRecord, 'topic' | 'partition' | 'offset'>): string {
  return `${record.topic}-${record.partition}@${record.offset}`;
}

export interface NginxBatch {
  records: Array<{ record: NginxRecord; delivered: DeliveredRecord }>;
  /** Records whose value is not a valid NginxRecord: they belong in the dead-letter topic. */
  invalid: Array<{ delivered: DeliveredRecord; reason: string; kind: string }>;
}

/** Decodes every record of a Kafka event as an NginxRecord, keeping the ones that fail with a reason. */
export function decodeNginxBatch(event: KafkaEvent): NginxBatch {
  const batch: NginxBatch = { records: [], invalid: [] };
  for (const delivered of deliveredRecords(event)) {
    if (delivered.value === null) {
      const reason = 'tombstone: record has no value';
      batch.invalid.push({ delivered, reason, kind: reason });
      continue;
    }
    try {
      batch.records.push({ record: decodeRecordValue(delivered.value), delivered });
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
      batch.invalid.push({ delivered, reason: err.message, kind: err.kind });
    }
  }
  return batch;
}
