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

function headerList(headers: IHeaders | undefined): MSKRecord['headers'] {
  const list: MSKRecord['headers'] = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) {
      list.push({ [name]: [...Buffer.from(one)] });
    }
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

export function buildKafkaEvent(
  definition: Pick<KafkaEventDefinition, 'eventSource' | 'eventSourceArn'>,
  bootstrapServers: string[],
  topic: string,
  partition: number,
  messages: KafkaMessage[],
): MSKEvent | SelfManagedKafkaEvent {
  const records = { [`${topic}-${partition}`]: messages.map((m) => lambdaRecord(topic, partition, m)) };
  if (definition.eventSource === 'aws:kafka') {
    return {
      eventSource: 'aws:kafka',
      eventSourceArn: definition.eventSourceArn ?? '',
      bootstrapServers: bootstrapServers.join(','),
      records,
    };
  }
  return { eventSource: 'SelfManagedKafka', bootstrapServers: bootstrapServers.join(','), records };
}
