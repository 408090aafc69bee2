/**
 * The record contract carried over SNS: one message per nginx record. The message body is the same JSON
 * value as the Kafka record; what Kafka carries as key and headers travels as message attributes.
 * Dead letters carry the original text as the body and the reason as the `ErrorMessage` attribute, the
 * attribute Lambda itself sets when it sends a failed asynchronous event to a dead-letter topic.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sns';
import type { SNSEvent, SNSEventRecord } from 'aws-lambda';
import type { Message } from 'kafkajs';
import type { NginxRecord } from '../nginx/record';
import { decodeRecordValue, HEADER, RECORD_VERSION, type DeadLetterStage } from '../record/contract';

export const ATTRIBUTE = {
  key: 'key',
  version: HEADER.version,
  logFormat: HEADER.logFormat,
  source: HEADER.source,
  /** Milliseconds since the epoch when the record was published (latency measurements). */
  publishedAt: 'published-at',
  errorMessage: 'ErrorMessage',
  requestId: 'RequestID',
  stage: 'dlq-stage',
  position: 'dlq-position',
} as const;

export interface SnsMessage {
  body: string;
  attributes: Record<string, MessageAttributeValue>;
}

const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

function headerText(message: Message, name: string): string | undefined {
  const value = message.headers?.[name];
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** A Kafka message of the record contract (encodeRecord) as an SNS message. */
export function snsMessageFromRecord(message: Message): SnsMessage {
  const attributes: Record<string, MessageAttributeValue> = {};
  if (message.key !== undefined && message.key !== null)
    attributes[ATTRIBUTE.key] = text(message.key.toString());
  for (const name of [ATTRIBUTE.version, ATTRIBUTE.logFormat, ATTRIBUTE.source]) {
    const value = headerText(message, name);
    if (value !== undefined && value !== '') attributes[name] = text(value);
  }
  return { body: message.value === null ? '' : message.value.toString(), attributes };
}

export interface SnsDeadLetter {
  original: string;
  reason: string;
  stage: DeadLetterStage;
  source: string;
  position: string;
}

export function snsDeadLetterMessage(letter: SnsDeadLetter): SnsMessage {
  return {
    body: letter.original.length > 0 ? letter.original : '(empty)',
    attributes: {
      [ATTRIBUTE.errorMessage]: text(letter.reason),
      [ATTRIBUTE.stage]: text(letter.stage),
      [ATTRIBUTE.source]: text(letter.source),
      [ATTRIBUTE.position]: text(letter.position),
      [ATTRIBUTE.version]: text(RECORD_VERSION),
    },
  };
}

export function isSnsEvent(event: unknown): event is SNSEvent {
  if (typeof event !== 'object' || event === null) return false;
  const records = (event as { Records?: unknown }).Records;
  return (
    Array.isArray(records) &&
    records.length > 0 &&
    records.every(
      (r) => typeof r === 'object' && r !== null && (r as SNSEventRecord).EventSource === 'aws:sns',
    )
  );
}

export function attribute(record: SNSEventRecord, name: string): string | undefined {
  return record.Sns.MessageAttributes?.[name]?.Value;
}

/** The nginx record in an SNS delivery; throws RecordError when the message is not one. */
export function decodeSnsRecord(record: SNSEventRecord): NginxRecord {
  return decodeRecordValue(record.Sns.Message);
}
