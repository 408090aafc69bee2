/**
 * What an on-failure destination receives for a Kafka batch that Lambda gave up on: a JSON document with
 * the request context (condition, approximate invoke count), the response context (function error) and
 * the batch's coordinates in `KafkaBatchInfo`. A Kafka destination additionally receives the failed
 * records themselves; locally each one is written with its own key, value and headers, plus this document
 * and the headers the service asks for (`custom.kafkaEventSource.failureHeaders`).
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html
 */
import { randomUUID } from 'node:crypto';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

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

/**
 * What `{name}` placeholders in a failure header stand for, per record: the condition, the function's
 * error, the source topic, partition and offset, and the failure's time.
 */
export const FAILURE_PLACEHOLDERS = ['condition', 'error', 'topic', 'partition', 'offset', 'time'] as const;

function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/**
 * The failed records as written to a Kafka destination: original key, value and headers kept, then the
 * service's `headerTemplates` filled in for each record, then the failure document under FAILURE_HEADER.
 */
export function destinationMessages(
  failure: OnFailureRecord,
  messages: KafkaMessage[],
  headerTemplates: Record<string, string> = {},
): Message[] {
  const document = JSON.stringify(failure);
  const { topic, partition } = failure.KafkaBatchInfo;
  const templates = Object.entries(headerTemplates);
  return messages.map((m) => {
    const values: Record<string, string> = {
      condition: failure.requestContext.condition,
      error: failure.responseContext.functionError,
      topic,
      partition: String(partition),
      offset: m.offset,
      time: failure.timestamp,
    };
    const added = Object.fromEntries(templates.map(([name, t]) => [name, fillTemplate(t, values)]));
    return {
      key: m.key,
      value: m.value,
      headers: { ...copyHeaders(m.headers), ...added, [FAILURE_HEADER]: document },
    };
  });
}
