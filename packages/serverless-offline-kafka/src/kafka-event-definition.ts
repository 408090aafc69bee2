/**
 * Reads a function's `msk` or `kafka` event from serverless.yml into what the local event source needs,
 * with Lambda's defaults where the event says nothing.
 */
import {
  checkKafkaPatterns,
  FilterPatternError,
  parseFilterPatterns,
  type FilterPattern,
} from './filter-pattern';
import { placeholderClusterArn, SETTING_DEFAULTS } from './settings';

export type StartingPosition = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';

/** Where records go that the function could not handle within the configured error handling. */
export type OnFailureDestination =
  /** `kafka://<topic>`: a topic on the same cluster, as Lambda's Kafka on-failure destination. */
  | { kind: 'kafka'; topic: string }
  /** An SNS topic or SQS queue ARN: locally written to the dead-letter topic instead. */
  | { kind: 'arn'; arn: string };

/** Lambda's Kafka error handling, as far as it can be written down for a function. */
export interface ErrorHandling {
  /** -1 (the default) retries until the record expires, as Lambda does; 0..10000 otherwise. */
  maximumRetryAttempts: number;
  /** -1 (the default) never gives a record up for age; 60..604800 seconds otherwise. */
  maximumRecordAgeInSeconds: number;
  /** Split a failing batch in two and retry the halves separately. */
  bisectBatchOnFunctionError: boolean;
  onFailure?: OnFailureDestination;
}

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
  /** Lambda event filtering; empty means every record is delivered. */
  filterPatterns: FilterPattern[];
  /** The function's `timeout` in seconds: an invocation running longer counts as failed. */
  timeout: number;
  errorHandling: ErrorHandling;
}

export interface RawKafkaEvent {
  filterPatterns?: unknown;
  maximumRetryAttempts?: unknown;
  maximumRecordAgeInSeconds?: unknown;
  bisectBatchOnFunctionError?: unknown;
  /** `kafka://<topic>`, an SNS/SQS ARN, or `{ onFailure: <that> }` / `{ onFailure: { arn } }`. */
  destinations?: unknown;
  /** The framework's own setting on `kafka` events (compiled to DestinationConfig.OnFailure). */
  onFailureDestination?: unknown;
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
  /** Lambda's default function timeout, seconds. */
  timeout: 6,
  maximumRetryAttempts: -1,
  maximumRecordAgeInSeconds: -1,
  /** Lambda applies at most 10 retries when retries are infinite and an on-failure destination is set. */
  retriesWithDestination: 10,
};

const KNOWN_KEYS = new Set([
  'arn',
  'topic',
  'batchSize',
  'maximumBatchingWindow',
  'startingPosition',
  'startingPositionTimestamp',
  'consumerGroupId',
  'enabled',
  'filterPatterns',
  'saslScram512',
  'provisionedPollerConfig',
  'accessConfigurations',
  'bootstrapServers',
  'maximumRetryAttempts',
  'maximumRecordAgeInSeconds',
  'bisectBatchOnFunctionError',
  'destinations',
  'onFailureDestination',
]);

export class KafkaEventDefinitionError extends Error {}

/** The cluster ARN of `msk` events whose `arn` is not a plain string, with the default region and account. */
const DEFAULT_PLACEHOLDER_ARN = placeholderClusterArn(SETTING_DEFAULTS);

function destinationOf(raw: unknown, where: string): OnFailureDestination | undefined {
  if (raw === undefined || raw === null) return undefined;
  let value: unknown = raw;
  if (typeof value === 'object' && value !== null && 'onFailure' in value)
    value = (value as { onFailure: unknown }).onFailure;
  if (typeof value === 'object' && value !== null && 'arn' in value) value = (value as { arn: unknown }).arn;
  if (typeof value === 'string') {
    const kafka = /^kafka:\/\/([a-zA-Z0-9._-]{1,249})$/.exec(value);
    if (kafka) return { kind: 'kafka', topic: kafka[1]! };
    if (/^arn:aws[a-zA-Z-]*:(sns|sqs):/.test(value)) return { kind: 'arn', arn: value };
  }
  throw new KafkaEventDefinitionError(
    `${where}: the on-failure destination (onFailureDestination, or destinations.onFailure) must be kafka://<topic> or an SNS topic / SQS queue ARN, not ${JSON.stringify(raw)}`,
  );
}

function integerOrMinusOne(value: unknown, name: string, min: number, max: number): number {
  if (value === undefined || value === null || value === -1) return -1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new KafkaEventDefinitionError(
      `${name} must be -1 (no limit) or a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`,
    );
  }
  return value;
}

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
  timeout: number = LAMBDA_DEFAULTS.timeout,
  placeholderArn: string = DEFAULT_PLACEHOLDER_ARN,
): KafkaEventDefinition {
  const where = `function ${functionKey}, ${type} event`;
  if (typeof raw !== 'object' || raw === null) {
    throw new KafkaEventDefinitionError(`${where}: the event must be an object with at least a topic`);
  }
  const unknown = Object.keys(raw).filter((k) => !KNOWN_KEYS.has(k));
  if (unknown.length > 0) {
    throw new KafkaEventDefinitionError(
      `${where}: unknown setting ${unknown.map((k) => JSON.stringify(k)).join(', ')}; known: ${[...KNOWN_KEYS].join(', ')}`,
    );
  }
  if (type === 'msk' && raw.arn !== undefined && typeof raw.arn !== 'string' && typeof raw.arn !== 'object') {
    throw new KafkaEventDefinitionError(`${where}: arn must be the MSK cluster ARN`);
  }
  if (
    raw.consumerGroupId !== undefined &&
    (typeof raw.consumerGroupId !== 'string' || raw.consumerGroupId.length > 200)
  ) {
    throw new KafkaEventDefinitionError(
      `${where}: consumerGroupId must be a string of at most 200 characters`,
    );
  }
  if (raw.enabled !== undefined && typeof raw.enabled !== 'boolean') {
    throw new KafkaEventDefinitionError(`${where}: enabled must be true or false`);
  }
  if (raw.bisectBatchOnFunctionError !== undefined && typeof raw.bisectBatchOnFunctionError !== 'boolean') {
    throw new KafkaEventDefinitionError(`${where}: bisectBatchOnFunctionError must be true or false`);
  }
  if (typeof raw.topic !== 'string' || raw.topic.length === 0) {
    throw new KafkaEventDefinitionError(`${where}: topic is required`);
  }
  const startingPosition = (raw.startingPosition ?? LAMBDA_DEFAULTS.startingPosition) as StartingPosition;
  if (!['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'].includes(startingPosition)) {
    throw new KafkaEventDefinitionError(
      `${where}: startingPosition must be TRIM_HORIZON, LATEST or AT_TIMESTAMP`,
    );
  }
  if (
    startingPosition === 'AT_TIMESTAMP' &&
    (typeof raw.startingPositionTimestamp !== 'number' || raw.startingPositionTimestamp < 0)
  ) {
    throw new KafkaEventDefinitionError(
      `${where}: AT_TIMESTAMP needs startingPositionTimestamp (seconds since the epoch)`,
    );
  }
  try {
    if (raw.destinations !== undefined && raw.onFailureDestination !== undefined) {
      throw new KafkaEventDefinitionError(
        'set either onFailureDestination or destinations.onFailure, not both',
      );
    }
    const onFailure = destinationOf(raw.destinations ?? raw.onFailureDestination, where);
    if (onFailure?.kind === 'kafka' && onFailure.topic === raw.topic) {
      throw new KafkaEventDefinitionError(
        'the on-failure destination cannot be the source topic (Lambda refuses it to prevent loops)',
      );
    }
    const filterPatterns = parseFilterPatterns(raw.filterPatterns);
    checkKafkaPatterns(filterPatterns);
    let maximumRetryAttempts = integerOrMinusOne(raw.maximumRetryAttempts, 'maximumRetryAttempts', 0, 10000);
    if (maximumRetryAttempts === -1 && onFailure)
      maximumRetryAttempts = LAMBDA_DEFAULTS.retriesWithDestination;
    return {
      functionKey,
      eventSource: type === 'msk' ? 'aws:kafka' : 'SelfManagedKafka',
      eventSourceArn: type === 'msk' ? (typeof raw.arn === 'string' ? raw.arn : placeholderArn) : undefined,
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
      filterPatterns,
      timeout: numberIn(timeout, 'timeout', 1, 900, LAMBDA_DEFAULTS.timeout),
      errorHandling: {
        maximumRetryAttempts,
        maximumRecordAgeInSeconds: integerOrMinusOne(
          raw.maximumRecordAgeInSeconds,
          'maximumRecordAgeInSeconds',
          60,
          604800,
        ),
        bisectBatchOnFunctionError: raw.bisectBatchOnFunctionError === true,
        onFailure,
      },
    };
  } catch (err) {
    if (err instanceof KafkaEventDefinitionError || err instanceof FilterPatternError)
      throw new KafkaEventDefinitionError(
        err.message.startsWith(where) ? err.message : `${where}: ${err.message}`,
      );
    throw err;
  }
}

interface FunctionLike {
  events?: Array<Record<string, unknown>>;
  timeout?: unknown;
}

/**
 * Settings Lambda has but serverless.yml's msk/kafka event schema does not (error handling, destinations):
 * `custom.kafkaEventSource.functions.<function>` adds them to that function's Kafka events locally. On AWS
 * the same values belong on the event source mapping (e.g. through resources.extensions).
 */
export type LocalOverrides = Record<string, Record<string, unknown>>;

/** Every msk/kafka event of every function in the service. */
export function kafkaEventDefinitions(
  service: string,
  stage: string,
  functions: Record<string, FunctionLike>,
  options: { providerTimeout?: unknown; overrides?: LocalOverrides; placeholderArn?: string } = {},
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
              { ...(raw as RawKafkaEvent), ...(options.overrides?.[functionKey] ?? {}) },
              `${service}-${stage}-${functionKey}`,
              timeoutOf(fn.timeout ?? options.providerTimeout, functionKey),
              options.placeholderArn,
            ),
          );
        }
      }
    }
  }
  return definitions;
}

function timeoutOf(value: unknown, functionKey: string): number {
  if (value === undefined || value === null) return LAMBDA_DEFAULTS.timeout;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
    throw new KafkaEventDefinitionError(`function ${functionKey}: timeout must be a number of seconds`);
  }
  return n;
}
