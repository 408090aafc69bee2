/**
 * Bootstrap brokers of an Amazon MSK cluster, discovered from its ARN with GetBootstrapBrokers: the string
 * for the client's authentication (IAM, SCRAM, TLS or plaintext; VPC or public endpoint) is picked, and the
 * answer is cached for the life of the container. The AWS SDK is loaded only when discovery is needed, so
 * the local path never loads it.
 */
import type { GetBootstrapBrokersResponse, KafkaClient } from '@aws-sdk/client-kafka';
import type { ConnectionConfig, KafkaAuth } from '../config';
import { cachedUntilFailure } from './cache';

type BootstrapField = keyof GetBootstrapBrokersResponse;

/** Which GetBootstrapBrokers field serves which authentication on which endpoint. */
export const BOOTSTRAP_FIELDS: Record<ConnectionConfig['endpoint'], Record<KafkaAuth, BootstrapField>> = {
  private: {
    none: 'BootstrapBrokerString',
    tls: 'BootstrapBrokerStringTls',
    iam: 'BootstrapBrokerStringSaslIam',
    scram: 'BootstrapBrokerStringSaslScram',
  },
  public: {
    none: 'BootstrapBrokerString', // MSK has no public plaintext endpoint; GetBootstrapBrokers never fills it
    tls: 'BootstrapBrokerStringPublicTls',
    iam: 'BootstrapBrokerStringPublicSaslIam',
    scram: 'BootstrapBrokerStringPublicSaslScram',
  },
};

const AUTH_NAMES: Record<KafkaAuth, string> = {
  none: 'plaintext',
  tls: 'TLS',
  iam: 'IAM (SASL/OAUTHBEARER)',
  scram: 'SASL/SCRAM',
};

export class BootstrapError extends Error {}

/** Picks the broker list for this authentication from a GetBootstrapBrokers answer, or says what is missing. */
export function pickBootstrapBrokers(
  response: GetBootstrapBrokersResponse,
  clusterArn: string,
  auth: KafkaAuth,
  endpoint: ConnectionConfig['endpoint'],
): string[] {
  const field = BOOTSTRAP_FIELDS[endpoint][auth];
  const value = endpoint === 'public' && auth === 'none' ? undefined : response[field];
  if (!value) {
    const offered = (Object.keys(response) as BootstrapField[])
      .filter((k) => k.startsWith('BootstrapBrokerString') && response[k])
      .join(', ');
    throw new BootstrapError(
      `MSK cluster ${clusterArn} has no ${endpoint} endpoint for ${AUTH_NAMES[auth]} authentication ` +
        `(GetBootstrapBrokers has no ${field}; it offers ${offered || 'nothing'}). ` +
        `Enable ${AUTH_NAMES[auth]} on the cluster, or set KAFKA_AUTH${endpoint === 'public' ? '/MSK_ENDPOINT' : ''} to one it offers.`,
    );
  }
  return value
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}

let client: KafkaClient | undefined;
const cache = new Map<string, Promise<string[]>>();

function kafkaClient(region: string | undefined): KafkaClient {
  if (!client) {
    // Loaded on first discovery only: the local path (KAFKA_BROKERS) never pays for the AWS SDK.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require('@aws-sdk/client-kafka') as typeof import('@aws-sdk/client-kafka');
    client = new sdk.KafkaClient(region ? { region } : {});
  }
  return client;
}

/**
 * The brokers for `connection` (cluster ARN, auth, endpoint), from GetBootstrapBrokers, asked once per
 * container; a failed answer is not cached, so the next call asks again.
 */
export function discoverBootstrapBrokers(
  connection: Pick<ConnectionConfig, 'clusterArn' | 'auth' | 'endpoint' | 'region'>,
): Promise<string[]> {
  const { clusterArn, auth, endpoint } = connection;
  if (!clusterArn) {
    return Promise.reject(
      new BootstrapError('set KAFKA_BROKERS, or MSK_CLUSTER_ARN to discover the brokers of an MSK cluster'),
    );
  }
  return cachedUntilFailure(cache, `${clusterArn} ${auth} ${endpoint}`, async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require('@aws-sdk/client-kafka') as typeof import('@aws-sdk/client-kafka');
    let response: GetBootstrapBrokersResponse;
    try {
      response = await kafkaClient(connection.region).send(
        new sdk.GetBootstrapBrokersCommand({ ClusterArn: clusterArn }),
      );
    } catch (err) {
      throw new BootstrapError(
        `GetBootstrapBrokers failed for ${clusterArn}: ${(err as Error).message} ` +
          '(the caller needs kafka:GetBootstrapBrokers, and network access to the MSK API: a NAT gateway or a kafka VPC endpoint)',
      );
    }
    return pickBootstrapBrokers(response, clusterArn, auth, endpoint);
  });
}

/** Forgets cached answers (after brokers were replaced, and in tests). */
export function forgetBootstrapBrokers(): void {
  cache.clear();
  client = undefined;
}
