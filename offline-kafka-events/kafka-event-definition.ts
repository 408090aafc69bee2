/**
 * Reads a function's `msk` or `kafka` event from serverless.yml into what the local event source needs,
 * with Lambda's defaults where the event says nothing.
 */
export type StartingPosition = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';

export interface KafkaEventDefinition {
  functionKey: string;
  /** `msk` events arrive as `aws:kafka`, `kafka` (self-managed) events as `SelfManagedKafka`. */
  eventSource: 'aws:kafka' | 'SelfManagedKafka';
  /** The MSK cluster ARN named in serverless.yml (msk only). */
  eventSourceArn?: string;
  topic: string;
  consumerGroupId: string;
  batchSize: number;
  /** Seconds. */
  maximumBatchingWindow: number;
  startingPosition: StartingPosition;
  startingPositionTimestamp?: number;
  enabled: boolean;
}

export interface RawKafkaEvent {
  arn?: unknown;
  topic?: unknown;
  batchSize?: unknown;
  maximumBatchingWindow?: unknown;
  startingPosition?: unknown;
  startingPositionTimestamp?: unknown;
  consumerGroupId?: unknown;
  enabled?: unknown;
}

/** Lambda's defaults for Kafka event sources. */
export const LAMBDA_DEFAULTS = {
  batchSize: 100,
  maximumBatchingWindow: 0.5,
  startingPosition: 'TRIM_HORIZON' as StartingPosition,
};

export class KafkaEventDefinitionError extends Error {}

const PLACEHOLDER_ARN =
  'arn:aws:kafka:us-east-1:000000000000:cluster/local/00000000-0000-0000-0000-000000000000-1';

function numberIn(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    throw new KafkaEventDefinitionError(
      `${name} must be a number from ${min} to ${max}, not ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function parseKafkaEventDefinition(
  functionKey: string,
  type: 'msk' | 'kafka',
  raw: RawKafkaEvent,
  defaultGroupId: string,
): KafkaEventDefinition {
  const where = `function ${functionKey}, ${type} event`;
  if (typeof raw.topic !== 'string' || raw.topic.length === 0) {
    throw new KafkaEventDefinitionError(`${where}: topic is required`);
  }
  const startingPosition = (raw.startingPosition ?? LAMBDA_DEFAULTS.startingPosition) as StartingPosition;
  if (!['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'].includes(startingPosition)) {
    throw new KafkaEventDefinitionError(
      `${where}: startingPosition must be TRIM_HORIZON, LATEST or AT_TIMESTAMP`,
    );
  }
  if (startingPosition === 'AT_TIMESTAMP' && typeof raw.startingPositionTimestamp !== 'number') {
    throw new KafkaEventDefinitionError(
      `${where}: AT_TIMESTAMP needs startingPositionTimestamp (seconds since the epoch)`,
    );
  }
  try {
    return {
      functionKey,
      eventSource: type === 'msk' ? 'aws:kafka' : 'SelfManagedKafka',
      eventSourceArn: type === 'msk' ? (typeof raw.arn === 'string' ? raw.arn : PLACEHOLDER_ARN) : undefined,
      topic: raw.topic,
      consumerGroupId:
        typeof raw.consumerGroupId === 'string' && raw.consumerGroupId ? raw.consumerGroupId : defaultGroupId,
      batchSize: numberIn(raw.batchSize, 'batchSize', 1, 10000, LAMBDA_DEFAULTS.batchSize),
      maximumBatchingWindow: numberIn(
        raw.maximumBatchingWindow,
        'maximumBatchingWindow',
        0,
        300,
        LAMBDA_DEFAULTS.maximumBatchingWindow,
      ),
      startingPosition,
      startingPositionTimestamp:
        typeof raw.startingPositionTimestamp === 'number' ? raw.startingPositionTimestamp : undefined,
      enabled: raw.enabled !== false,
    };
  } catch (err) {
    if (err instanceof KafkaEventDefinitionError)
      throw new KafkaEventDefinitionError(`${where}: ${err.message}`);
    throw err;
  }
}

interface FunctionLike {
  events?: Array<Record<string, unknown>>;
}

/** Every msk/kafka event of every function in the service. */
export function kafkaEventDefinitions(
  service: string,
  stage: string,
  functions: Record<string, FunctionLike>,
): KafkaEventDefinition[] {
  const definitions: KafkaEventDefinition[] = [];
  for (const [functionKey, fn] of Object.entries(functions)) {
    for (const event of fn.events ?? []) {
      for (const type of ['msk', 'kafka'] as const) {
        const raw = event[type];
        if (raw && typeof raw === 'object') {
          definitions.push(
            parseKafkaEventDefinition(
              functionKey,
              type,
              raw as RawKafkaEvent,
              `${service}-${stage}-${functionKey}`,
            ),
          );
        }
      }
    }
  }
  return definitions;
}
