/**
 * What an on-failure destination receives for a Kafka batch that Lambda gave up on: a JSON document with
 * the request context (condition, approximate invoke count), the response context (function error) and
 * the batch's coordinates in `KafkaBatchInfo`. A Kafka destination additionally receives the failed
 * records themselves; locally each one is written with its own key, value and headers, plus this document
 * and the project's dead-letter headers.
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html
 */
import { randomUUID } from 'node:crypto';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { DLQ_HEADER, RECORD_VERSION, HEADER } from '../../shared/record/contract';

export type FailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

export interface OnFailureRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: FailureCondition;
    approximateInvokeCount: number;
  };
  responseContext: {
    statusCode: number;
    executedVersion: string;
    functionError: string;
  };
  version: '1.0';
  timestamp: string;
  KafkaBatchInfo: {
    batchSize: number;
    topic: string;
    partition: number;
    firstOffset: number;
    lastOffset: number;
    firstRecordTimestamp: number;
    lastRecordTimestamp: number;
  };
}

/** The header that carries the failure document on each record written to a Kafka destination. */
export const FAILURE_HEADER = 'lambda-on-failure';

export function onFailureRecord(input: {
  functionArn: string;
  condition: FailureCondition;
  invokeCount: number;
  error: string;
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  now?: Date;
}): OnFailureRecord {
  const first = input.messages[0]!;
  const last = input.messages[input.messages.length - 1]!;
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: input.functionArn,
      condition: input.condition,
      approximateInvokeCount: input.invokeCount,
    },
    responseContext: {
      // The invoke call itself succeeded; the function reported an error (or never ran, for an old record).
      statusCode: 200,
      executedVersion: '$LATEST',
      functionError: input.error,
    },
    version: '1.0',
    timestamp: (input.now ?? new Date()).toISOString(),
    KafkaBatchInfo: {
      batchSize: input.messages.length,
      topic: input.topic,
      partition: input.partition,
      firstOffset: Number(first.offset),
      lastOffset: Number(last.offset),
      firstRecordTimestamp: Number(first.timestamp),
      lastRecordTimestamp: Number(last.timestamp),
    },
  };
}

function copyHeaders(headers: IHeaders | undefined): IHeaders {
  const copy: IHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) copy[name] = value;
  }
  return copy;
}

/** The failed records as written to a Kafka destination: original key, value and headers kept. */
export function destinationMessages(failure: OnFailureRecord, messages: KafkaMessage[]): Message[] {
  const document = JSON.stringify(failure);
  const { topic, partition } = failure.KafkaBatchInfo;
  return messages.map((m) => ({
    key: m.key,
    value: m.value,
    headers: {
      ...copyHeaders(m.headers),
      [HEADER.version]: RECORD_VERSION,
      [DLQ_HEADER.reason]: `${failure.requestContext.condition}: ${failure.responseContext.functionError}`,
      [DLQ_HEADER.stage]: 'handler',
      [DLQ_HEADER.source]: topic,
      [DLQ_HEADER.position]: `${topic}-${partition}@${m.offset}`,
      [DLQ_HEADER.time]: failure.timestamp,
      [FAILURE_HEADER]: document,
    },
  }));
}
