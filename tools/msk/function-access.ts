/**
 * What each function touches, declared once in serverless.yml's `custom.access`: the Kafka topics it produces
 * to, the SNS topics it publishes to, the Secrets Manager secrets it reads, and whether it uses Redis. Topics
 * and ARNs are named by the environment variable the code reads them from (`KAFKA_DLQ_TOPIC`), so the same
 * entry says which variables the function gets and which resources its role may write. What it reads from
 * Kafka comes from its msk events. On AWS stages the IAM statements, VPC placement and environment of every
 * function are derived from this (see aws-stage.ts); test/integration/aws-stage-package.test.ts checks it
 * against the topics the code produces to.
 */
import { MskStageError } from './aws-stage';

export interface DeclaredAccess {
  /** Environment variables naming Kafka topics the function produces to. */
  produces: string[];
  /** Environment variables naming SNS topic ARNs the function publishes to. */
  publishes: string[];
  /** Environment variables naming Secrets Manager secrets the function reads. */
  secrets: string[];
  redis: boolean;
  /** It produces in Kafka transactions (shared/kafka/atomic-producer.ts): transactional ids, and reading back. */
  transactions?: boolean;
}

const KEYS = new Set(['produces', 'publishes', 'secrets', 'redis', 'transactions']);
const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;

/**
 * Environment variables that belong to one kind of access. On an AWS stage a function gets those of the kinds
 * it uses and none of the others; every other provider variable is common to all functions.
 */
export const ENVIRONMENT_OF = {
  kafka: [
    'KAFKA_BROKERS',
    'KAFKA_TOPIC',
    'KAFKA_DLQ_TOPIC',
    'KAFKA_ALERTS_TOPIC',
    'KAFKA_AUTH',
    'MSK_CLUSTER_ARN',
    'KAFKA_SCRAM_SECRET_ARN',
  ],
  redis: ['REDIS_URL', 'ANALYTICS_PREFIX'],
  sns: ['SNS_ENDPOINT', 'SNS_TOPIC_ARN', 'SNS_DLQ_TOPIC_ARN', 'SNS_OFFLINE_RETRY_DELAY_MS'],
  secrets: ['READ_TOKEN_SECRET_ARN', 'READ_TOKEN'],
} as const;

const strings = (value: unknown, where: string, problems: string[]): string[] => {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !ENV_NAME.test(v))) {
    problems.push(
      `${where} must be a list of environment variable names (KAFKA_DLQ_TOPIC), not ${JSON.stringify(value)}`,
    );
    return [];
  }
  return value as string[];
};

/** Reads `custom.access`; every deployed function must have an entry, and every entry a function. */
export function readAccessDeclaration(raw: unknown, functionKeys: string[]): Record<string, DeclaredAccess> {
  const problems: string[] = [];
  const entries = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const declared: Record<string, DeclaredAccess> = {};
  for (const key of functionKeys) {
    const entry = entries[key];
    if (entry === undefined) {
      problems.push(
        `function ${key} has no entry in custom.access: say what it touches (produces, publishes, secrets, redis), ` +
          `or {} for nothing`,
      );
      continue;
    }
    const fields = (entry ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(fields).filter((k) => !KEYS.has(k));
    if (unknown.length > 0) {
      problems.push(`custom.access.${key}: unknown ${unknown.join(', ')}; known: ${[...KEYS].join(', ')}`);
    }
    for (const flag of ['redis', 'transactions'] as const) {
      if (fields[flag] !== undefined && typeof fields[flag] !== 'boolean') {
        problems.push(`custom.access.${key}.${flag} must be true or false`);
      }
    }
    declared[key] = {
      produces: strings(fields.produces, `custom.access.${key}.produces`, problems),
      publishes: strings(fields.publishes, `custom.access.${key}.publishes`, problems),
      secrets: strings(fields.secrets, `custom.access.${key}.secrets`, problems),
      redis: fields.redis === true,
      ...(fields.transactions === true ? { transactions: true } : {}),
    };
  }
  for (const key of Object.keys(entries)) {
    if (!functionKeys.includes(key)) problems.push(`custom.access.${key} names no function of the service`);
  }
  if (problems.length > 0) throw new MskStageError(`custom.access:\n  - ${problems.join('\n  - ')}`);
  return declared;
}

/** Which kinds of environment a function needs: Kafka when it reads or produces, and what it declares. */
export function environmentKinds(
  access: DeclaredAccess,
  readsKafka: boolean,
): Array<keyof typeof ENVIRONMENT_OF> {
  const kinds: Array<keyof typeof ENVIRONMENT_OF> = [];
  if (readsKafka || access.produces.length > 0) kinds.push('kafka');
  if (access.redis) kinds.push('redis');
  if (access.publishes.length > 0) kinds.push('sns');
  if (access.secrets.length > 0) kinds.push('secrets');
  return kinds;
}

/**
 * Splits the provider-wide environment into what every function shares and, per function, what only it gets.
 * Variables of a kind no function uses are dropped.
 */
export function splitEnvironment(
  provider: Record<string, unknown>,
  kinds: Record<string, Array<keyof typeof ENVIRONMENT_OF>>,
): { common: Record<string, unknown>; perFunction: Record<string, Record<string, unknown>> } {
  const owned = new Set<string>(Object.values(ENVIRONMENT_OF).flat());
  const common = Object.fromEntries(Object.entries(provider).filter(([name]) => !owned.has(name)));
  const perFunction: Record<string, Record<string, unknown>> = {};
  for (const [functionKey, list] of Object.entries(kinds)) {
    const names = new Set<string>(list.flatMap((kind) => ENVIRONMENT_OF[kind]));
    perFunction[functionKey] = Object.fromEntries(
      Object.entries(provider).filter(
        ([name, value]) => names.has(name) && value !== undefined && value !== '',
      ),
    );
  }
  return { common, perFunction };
}
