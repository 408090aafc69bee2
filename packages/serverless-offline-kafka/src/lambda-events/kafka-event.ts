/**
 * Builds the event Lambda's Kafka event source delivers: records under `"<topic>-<partition>"`, key and
 * value base64-encoded, each header as a one-key object whose value is the list of its bytes.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html
 */
import type { MSKEvent, MSKRecord, SelfManagedKafkaEvent } from 'aws-lambda';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { KafkaEventDefinition } from '../kafka-event-definition';

/** Bit 3 of a record batch's attributes: the timestamp was set by the broker. */
const LOG_APPEND_TIME = 0x08;

/** A header value as Lambda sends it: the list of its bytes (filled by index: spreading a Buffer is slow). */
function byteList(value: Buffer | string): number[] {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  const list = new Array<number>(bytes.length);
  for (let i = 0; i < bytes.length; i++) list[i] = bytes[i]!;
  return list;
}

function headerList(headers: IHeaders | undefined): MSKRecord['headers'] {
  const list: MSKRecord['headers'] = [];
  if (!headers) return list;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const one of value) list.push({ [name]: byteList(one) });
    else list.push({ [name]: byteList(value) });
  }
  return list;
}

export function lambdaRecord(topic: string, partition: number, message: KafkaMessage): MSKRecord {
  const record: Partial<MSKRecord> = {
    topic,
    partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    timestampType: message.attributes & LOG_APPEND_TIME ? 'LOG_APPEND_TIME' : 'CREATE_TIME',
  };
  if (message.key !== null) record.key = message.key.toString('base64');
  if (message.value !== null) record.value = message.value.toString('base64');
  record.headers = headerList(message.headers);
  return record as MSKRecord;
}

/** Lambda's payload limit for a synchronous invocation (the event source invokes synchronously). */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** Room for the event's envelope: event source, ARN, bootstrap servers, the records key. */
const ENVELOPE_BYTES = 4096;

/** An upper bound of the record's JSON size without building the JSON (every header byte as "255,"). */
function sizeBound(record: MSKRecord): number {
  let size = 200 + record.topic.length + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const header of record.headers) {
    for (const [name, bytes] of Object.entries(header)) size += name.length * 6 + 8 + bytes.length * 4;
  }
  return size;
}

/**
 * Splits the records of one invocation so that no event exceeds `limit` bytes, keeping their order. A
 * single record larger than the limit travels alone (Kafka's own message size limit is far below it).
 */
export function splitByPayload(records: MSKRecord[], limit = MAX_PAYLOAD_BYTES): MSKRecord[][] {
  const budget = limit - ENVELOPE_BYTES;
  let bound = 0;
  for (const r of records) bound += sizeBound(r) + 1;
  if (bound <= budget) return [records];
  const parts: MSKRecord[][] = [];
  let current: MSKRecord[] = [];
  let size = 0;
  for (const record of records) {
    const bytes = Buffer.byteLength(JSON.stringify(record)) + 1;
    if (current.length > 0 && size + bytes > budget) {
      parts.push(current);
      current = [];
      size = 0;
    }
    current.push(record);
    size += bytes;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

/** The event for records already in Lambda's shape (all of one partition). */
export function eventOf(
  definition: Pick<KafkaEventDefinition, 'eventSource' | 'eventSourceArn'>,
  bootstrapServers: string,
  topic: string,
  partition: number,
  records: MSKRecord[],
): MSKEvent | SelfManagedKafkaEvent {
  const byPartition = { [`${topic}-${partition}`]: records };
  if (definition.eventSource === 'aws:kafka') {
    return {
      eventSource: 'aws:kafka',
      eventSourceArn: definition.eventSourceArn ?? '',
      bootstrapServers,
      records: byPartition,
    };
  }
  return { eventSource: 'SelfManagedKafka', bootstrapServers, records: byPartition };
}
