/**
 * What a Kafka client needs to reach the cluster beyond host:port: TLS and SASL for Amazon MSK (IAM through
 * SASL/OAUTHBEARER with tokens from aws-msk-iam-sasl-signer-js, or SASL/SCRAM-SHA-512 with the credentials
 * in Secrets Manager) and for any TLS/SCRAM cluster, plus the brokers discovered from an MSK cluster ARN.
 * The local broker needs none of it: with KAFKA_AUTH unset this returns the configured brokers only, and no
 * AWS module is loaded.
 */
import { readFileSync } from 'node:fs';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { ConnectionConfig, PipelineConfig } from '../config';
import { discoverBootstrapBrokers } from './bootstrap';
import { cachedUntilFailure } from './cache';

export type ConnectionOptions = Pick<KafkaConfig, 'brokers' | 'ssl' | 'sasl'>;

export class KafkaAuthError extends Error {}

export interface ScramCredentials {
  username: string;
  password: string;
}

const secrets = new Map<string, Promise<ScramCredentials>>();

/**
 * SCRAM credentials from a Secrets Manager secret in the form Amazon MSK uses ({"username","password"}),
 * fetched once per container.
 */
export function scramCredentialsFromSecret(secretArn: string, region?: string): Promise<ScramCredentials> {
  return cachedUntilFailure(secrets, secretArn, async () => {
    type SecretsManager = typeof import('@aws-sdk/client-secrets-manager');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require('@aws-sdk/client-secrets-manager') as SecretsManager;
    const client = new sdk.SecretsManagerClient(region ? { region } : {});
    let text: string | undefined;
    try {
      text = (await client.send(new sdk.GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
    } catch (err) {
      throw new KafkaAuthError(
        `reading the SCRAM secret ${secretArn} failed: ${(err as Error).message} ` +
          '(the caller needs secretsmanager:GetSecretValue on it, and kms:Decrypt on its key)',
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text ?? '');
    } catch {
      parsed = undefined;
    }
    const { username, password } = (parsed ?? {}) as Partial<ScramCredentials>;
    if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) {
      throw new KafkaAuthError(
        `the SCRAM secret ${secretArn} must be a JSON string {"username": "...", "password": "..."}`,
      );
    }
    return { username, password };
  });
}

/** kafkajs SASL for Amazon MSK IAM: a fresh signed token whenever a connection authenticates. */
export function iamSasl(region: string | undefined): SASLOptions {
  if (!region) {
    throw new KafkaAuthError('KAFKA_AUTH=iam needs the AWS region: set AWS_REGION or MSK_CLUSTER_ARN');
  }
  return {
    mechanism: 'oauthbearer',
    oauthBearerProvider: async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const signer = require('aws-msk-iam-sasl-signer-js') as typeof import('aws-msk-iam-sasl-signer-js');
      const { token } = await signer.generateAuthToken({ region });
      return { value: token };
    },
  };
}

function tlsOptions(connection: ConnectionConfig): KafkaConfig['ssl'] {
  if (!connection.tlsCaFile) return true; // MSK's certificates chain to a public CA Node trusts
  try {
    return { ca: [readFileSync(connection.tlsCaFile, 'utf8')] };
  } catch (err) {
    throw new KafkaAuthError(`KAFKA_TLS_CA_FILE ${connection.tlsCaFile}: ${(err as Error).message}`);
  }
}

async function sasl(connection: ConnectionConfig): Promise<SASLOptions | undefined> {
  switch (connection.auth) {
    case 'iam':
      return iamSasl(connection.region);
    case 'scram': {
      const credentials =
        connection.scramUsername && connection.scramPassword
          ? { username: connection.scramUsername, password: connection.scramPassword }
          : connection.scramSecretArn
            ? await scramCredentialsFromSecret(connection.scramSecretArn, connection.region)
            : undefined;
      if (!credentials) {
        throw new KafkaAuthError(
          'KAFKA_AUTH=scram needs KAFKA_SCRAM_SECRET_ARN, or KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
        );
      }
      return { mechanism: 'scram-sha-512', ...credentials };
    }
    default:
      return undefined;
  }
}

/** Brokers, TLS and SASL for a client of this configuration. */
export async function connectionOptions(
  config: Pick<PipelineConfig, 'brokers' | 'connection'>,
): Promise<ConnectionOptions> {
  const { connection } = config;
  const brokers = config.brokers.length > 0 ? config.brokers : await discoverBootstrapBrokers(connection);
  if (connection.auth === 'none') return { brokers };
  const saslOptions = await sasl(connection);
  return { brokers, ssl: tlsOptions(connection), ...(saslOptions ? { sasl: saslOptions } : {}) };
}
