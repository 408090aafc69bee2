/**
 * Configuration from the environment, with defaults that work against the local broker.
 * Every variable read here is documented in the README's configuration table.
 */
export interface PipelineConfig {
  /** Bootstrap brokers, host:port. */
  brokers: string[];
  /** Topic the structured nginx records are produced to. */
  topic: string;
  /** Topic for lines that could not be parsed and records that could not be handled. */
  deadLetterTopic: string;
  /** Kafka client id, shown in broker logs and metrics. */
  clientId: string;
  /** How to reach and authenticate to the cluster (local: plaintext, no auth). */
  connection: ConnectionConfig;
}

/**
 * How clients authenticate: `none` (plaintext, the local broker), `tls` (TLS, no SASL), `iam` (Amazon MSK
 * IAM, SASL/OAUTHBEARER over TLS), `scram` (SASL/SCRAM-SHA-512 over TLS).
 */
export type KafkaAuth = 'none' | 'tls' | 'iam' | 'scram';
export const KAFKA_AUTHS: readonly KafkaAuth[] = ['none', 'tls', 'iam', 'scram'];

export interface ConnectionConfig {
  auth: KafkaAuth;
  /** Amazon MSK cluster ARN: bootstrap brokers are discovered from it when KAFKA_BROKERS is not set. */
  clusterArn?: string;
  /** Which MSK bootstrap string to discover: the VPC one (Lambda) or the public one (a laptop). */
  endpoint: 'private' | 'public';
  /** Secrets Manager secret holding {"username","password"} for `scram`. */
  scramSecretArn?: string;
  /** `scram` without Secrets Manager (self-managed clusters, tests): username and password given directly. */
  scramUsername?: string;
  scramPassword?: string;
  /** PEM file of the CA that signed the brokers' certificates, when it is not a public one. */
  tlsCaFile?: string;
  /** AWS region for MSK, Secrets Manager and IAM signing (default: AWS_REGION, else the ARN's). */
  region?: string;
}

export const DEFAULTS = {
  brokers: '127.0.0.1:9092',
  topic: 'nginx_logs',
  deadLetterTopic: 'nginx_logs_dlq',
  clientId: 'nginx-kafka-serverless',
} as const;

/**
 * Where a process looks for Kafka when KAFKA_BROKERS is not set and no MSK cluster is named: the broker that
 * `npm run kafka:start` runs on this machine, on LOCAL_KAFKA_PORT as it does (default 9092).
 */
export function localBrokers(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOCAL_KAFKA_PORT ? `127.0.0.1:${env.LOCAL_KAFKA_PORT}` : DEFAULTS.brokers;
}

export function splitBrokers(value: string): string[] {
  const brokers = value
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  for (const broker of brokers) {
    if (!/^[^:\s]+:\d+$/.test(broker) && !/^\[[0-9a-fA-F:]+\]:\d+$/.test(broker)) {
      throw new Error(`KAFKA_BROKERS entry "${broker}" is not host:port (example: 127.0.0.1:9092)`);
    }
  }
  if (brokers.length === 0) throw new Error('KAFKA_BROKERS is empty; set it to host:port[,host:port...]');
  return brokers;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): PipelineConfig {
  const connection = loadConnectionConfig(env);
  return {
    // With an MSK cluster ARN and no KAFKA_BROKERS, the brokers are discovered at connect time (empty here).
    brokers:
      env.KAFKA_BROKERS || !connection.clusterArn ? splitBrokers(env.KAFKA_BROKERS || localBrokers(env)) : [],
    topic: env.KAFKA_TOPIC || DEFAULTS.topic,
    deadLetterTopic: env.KAFKA_DLQ_TOPIC || DEFAULTS.deadLetterTopic,
    clientId: env.KAFKA_CLIENT_ID || DEFAULTS.clientId,
    connection,
  };
}

const MSK_CLUSTER_ARN = /^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster\/[^/]+\/[^/]+$/;

export function loadConnectionConfig(env: NodeJS.ProcessEnv = process.env): ConnectionConfig {
  const auth = (env.KAFKA_AUTH || 'none').toLowerCase() as KafkaAuth;
  if (!KAFKA_AUTHS.includes(auth)) {
    throw new Error(`KAFKA_AUTH must be one of ${KAFKA_AUTHS.join(', ')}, not "${env.KAFKA_AUTH}"`);
  }
  const clusterArn = env.MSK_CLUSTER_ARN || undefined;
  if (clusterArn && !MSK_CLUSTER_ARN.test(clusterArn)) {
    throw new Error(
      `MSK_CLUSTER_ARN "${clusterArn}" is not an MSK cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>)`,
    );
  }
  const endpoint = (env.MSK_ENDPOINT || 'private').toLowerCase();
  if (endpoint !== 'private' && endpoint !== 'public') {
    throw new Error(`MSK_ENDPOINT must be private or public, not "${env.MSK_ENDPOINT}"`);
  }
  if (
    auth === 'scram' &&
    !env.KAFKA_SCRAM_SECRET_ARN &&
    !(env.KAFKA_SASL_USERNAME && env.KAFKA_SASL_PASSWORD)
  ) {
    throw new Error(
      'KAFKA_AUTH=scram needs KAFKA_SCRAM_SECRET_ARN (a Secrets Manager secret) or KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
    );
  }
  return {
    auth,
    clusterArn,
    endpoint,
    scramSecretArn: env.KAFKA_SCRAM_SECRET_ARN || undefined,
    scramUsername: env.KAFKA_SASL_USERNAME || undefined,
    scramPassword: env.KAFKA_SASL_PASSWORD || undefined,
    tlsCaFile: env.KAFKA_TLS_CA_FILE || undefined,
    region: env.AWS_REGION || clusterArn?.split(':')[3] || undefined,
  };
}
