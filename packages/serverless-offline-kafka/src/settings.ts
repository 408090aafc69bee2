/**
 * The plugin's own settings, from serverless.yml's `custom.kafkaEventSource` with the environment and
 * documented defaults behind them. Nothing here knows the service it runs in: brokers, the topic that
 * stands in for SNS/SQS on-failure destinations, the account and region in the ARNs it makes up, and the
 * headers put on records written to a failure destination all come from the service.
 */
import type { LocalOverrides } from './kafka-event-definition';

export class SettingsError extends Error {}

export interface PluginSettings {
  /** Bootstrap brokers, host:port. */
  brokers: string[];
  /** Where SNS/SQS on-failure destinations are written locally; undefined: `<source topic>_dlq`. */
  deadLetterTopic?: string;
  /** The region in made-up ARNs (function ARNs, the placeholder MSK cluster ARN). */
  region: string;
  /** The account in made-up ARNs. */
  accountId: string;
  /** Headers added to each record written to a failure destination; values may hold placeholders. */
  failureHeaders: Record<string, string>;
  /** Lambda error-handling settings per function that serverless.yml's event schema has no place for. */
  functions: LocalOverrides;
}

export const SETTING_DEFAULTS = {
  brokers: '127.0.0.1:9092',
  region: 'us-east-1',
  accountId: '000000000000',
} as const;

/** host:port[,host:port...] (or a YAML list of them) as a list, refusing anything else by name. */
export function parseBrokers(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : String(value).split(',');
  const brokers = list.map((b) => String(b).trim()).filter((b) => b.length > 0);
  for (const broker of brokers) {
    if (!/^[^:\s]+:\d+$/.test(broker) && !/^\[[0-9a-fA-F:]+\]:\d+$/.test(broker)) {
      throw new SettingsError(`${where}: "${broker}" is not host:port (example: 127.0.0.1:9092)`);
    }
  }
  if (brokers.length === 0) throw new SettingsError(`${where} is empty; give host:port[,host:port...]`);
  return brokers;
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string')
    throw new SettingsError(`${where} must be a string, not ${JSON.stringify(value)}`);
  return value;
}

function objectOf(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new SettingsError(`${where} must be a mapping, not ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

const KNOWN = ['brokers', 'deadLetterTopic', 'region', 'accountId', 'failureHeaders', 'functions'];

/**
 * Reads `custom.kafkaEventSource`. Each setting falls back to an environment variable, then a default:
 * brokers → KAFKA_BROKERS → 127.0.0.1:9092; deadLetterTopic → KAFKA_DLQ_TOPIC → `<source topic>_dlq`;
 * region → provider.region → AWS_REGION → us-east-1; accountId → 000000000000.
 */
export function readSettings(
  custom: unknown,
  providerRegion: unknown,
  env: NodeJS.ProcessEnv = process.env,
): PluginSettings {
  const where = 'custom.kafkaEventSource';
  const raw = objectOf(custom, where);
  const unknown = Object.keys(raw).filter((k) => !KNOWN.includes(k));
  if (unknown.length > 0) {
    throw new SettingsError(
      `${where}: unknown setting ${unknown.map((k) => JSON.stringify(k)).join(', ')}; known: ${KNOWN.join(', ')}`,
    );
  }
  const brokers =
    raw.brokers !== undefined && raw.brokers !== null && raw.brokers !== ''
      ? parseBrokers(raw.brokers, `${where}.brokers`)
      : parseBrokers(env.KAFKA_BROKERS || SETTING_DEFAULTS.brokers, 'KAFKA_BROKERS');
  const accountId = optionalString(raw.accountId, `${where}.accountId`) ?? SETTING_DEFAULTS.accountId;
  if (!/^\d{12}$/.test(accountId)) {
    throw new SettingsError(`${where}.accountId must be 12 digits, not ${JSON.stringify(accountId)}`);
  }
  const failureHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(objectOf(raw.failureHeaders, `${where}.failureHeaders`))) {
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new SettingsError(
        `${where}.failureHeaders.${name} must be a string, not ${JSON.stringify(value)}`,
      );
    }
    failureHeaders[name] = String(value);
  }
  return {
    brokers,
    deadLetterTopic:
      optionalString(raw.deadLetterTopic, `${where}.deadLetterTopic`) ?? (env.KAFKA_DLQ_TOPIC || undefined),
    region:
      optionalString(raw.region, `${where}.region`) ??
      optionalString(providerRegion, 'provider.region') ??
      (env.AWS_REGION || SETTING_DEFAULTS.region),
    accountId,
    failureHeaders,
    functions: objectOf(raw.functions, `${where}.functions`) as LocalOverrides,
  };
}

/** The function's ARN as Lambda would have it, for failure documents. */
export function functionArn(settings: Pick<PluginSettings, 'region' | 'accountId'>, name: string): string {
  return `arn:aws:lambda:${settings.region}:${settings.accountId}:function:${name}`;
}

/** The ARN named in `msk` events whose `arn` is not a plain string (a CloudFormation reference, say). */
export function placeholderClusterArn(settings: Pick<PluginSettings, 'region' | 'accountId'>): string {
  return `arn:aws:kafka:${settings.region}:${settings.accountId}:cluster/local/00000000-0000-0000-0000-000000000000-1`;
}
