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
function byteList(bytes: Buffer): number[] {
  const list = new Array<number>(bytes.length);
  for (let i = 0; i < bytes.length; i++) list[i] = bytes[i]!;
  return list;
}

/** One header as Lambda sends it: an object with the header's name as its only key. */
type LambdaHeader = MSKRecord['headers'][number];

/**
 * The headers of one batch as Lambda sends them, each made once per header name and value in a row: the
 * records of one producer mostly carry the same header values, so the records of a batch share one
 * `{ name: bytes }` object per header instead of each making its own, and the copy to the function's worker
 * thread (a structured clone, which keeps shared references) carries it once. Each record still has its
 * own headers array. Kept for one batch, so it holds at most one header per name of that batch.
 */
export class SharedHeaders {
  private readonly last = new Map<string, { bytes: Buffer; header: LambdaHeader }>();

  headerOf(name: string, value: Buffer | string): LambdaHeader {
    const bytes = typeof value === 'string' ? Buffer.from(value) : value;
    const last = this.last.get(name);
    if (last !== undefined && last.bytes.equals(bytes)) return last.header;
    const header = { [name]: byteList(bytes) };
    this.last.set(name, { bytes, header });
    return header;
  }
}

function headerList(headers: IHeaders | undefined, shared: SharedHeaders): MSKRecord['headers'] {
  const list: MSKRecord['headers'] = [];
  if (!headers) return list;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const one of value) list.push(shared.headerOf(name, one));
    else list.push(shared.headerOf(name, value));
  }
  return list;
}

export function lambdaRecord(
  topic: string,
  partition: number,
  message: KafkaMessage,
  shared = new SharedHeaders(),
): MSKRecord {
  const record: Partial<MSKRecord> = {
    topic,
    partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    timestampType: message.attributes & LOG_APPEND_TIME ? 'LOG_APPEND_TIME' : 'CREATE_TIME',
  };
  if (message.key !== null) record.key = message.key.toString('base64');
  if (message.value !== null) record.value = message.value.toString('base64');
  record.headers = headerList(message.headers, shared);
  return record as MSKRecord;
}

/** The records of one batch of one partition in Lambda's shape, in order, sharing equal headers. */
export function lambdaRecords(topic: string, partition: number, messages: KafkaMessage[]): MSKRecord[] {
  const shared = new SharedHeaders();
  const records = new Array<MSKRecord>(messages.length);
  for (let i = 0; i < messages.length; i++) records[i] = lambdaRecord(topic, partition, messages[i]!, shared);
  return records;
}

/** Lambda's payload limit for a synchronous invocation (the event source invokes synchronously). */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** Room for the event's envelope: event source, ARN, bootstrap servers, the records key. */
const ENVELOPE_BYTES = 4096;

/** An upper bound of the record's JSON size without building the JSON (every header byte as "255,"). */
function sizeBound(record: MSKRecord): number {
  let size = 200 + record.topic.length + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const header of record.headers) {
    for (const name in header) size += name.length * 6 + 8 + header[name]!.length * 4;
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
