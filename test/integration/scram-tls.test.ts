/**
 * The SCRAM and TLS paths of shared/kafka against a real broker with a SASL_SSL listener (SCRAM-SHA-512,
 * self-signed certificate): the right credentials, from a Secrets Manager secret as on MSK, produce and
 * consume; a wrong password, a client without SASL, a plaintext client and a client that does not trust the
 * certificate are all refused.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { logLevel, type Kafka } from 'kafkajs';
import { loadConfig } from '../../shared/config';
import { connectKafka, createKafka } from '../../shared/kafka/client';
import { disconnectSharedProducer, sendAll, sharedProducer } from '../../shared/kafka/producer';
import { startSaslBroker, type SaslBroker } from '../helpers/sasl-broker';
import { uniqueName } from '../helpers/kafka';
import { freePort } from '../helpers/ports';
import { waitFor } from '../helpers/wait';

jest.setTimeout(180000);

const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_tests-AbCdEf';
const secrets = mockClient(SecretsManagerClient);
let broker: SaslBroker;
const topic = uniqueName('scram');

beforeAll(async () => {
  broker = await startSaslBroker(['ingest']);
  const admin = createKafka({ brokers: broker.plainBrokers, clientId: 'tests' }).admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  await admin.disconnect();
});

afterAll(async () => {
  await disconnectSharedProducer();
  await broker?.stop();
});

const env = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
  KAFKA_BROKERS: broker.saslBrokers.join(','),
  KAFKA_TOPIC: topic,
  KAFKA_TLS_CA_FILE: broker.caFile,
  ...extra,
});

/** Connecting an admin of this configuration: resolves when the broker let it in. */
async function tryConnect(kafka: Kafka): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

// One attempt, and quiet: these clients are refused on purpose.
const once = {
  retry: { retries: 0 },
  connectionTimeout: 3000,
  authenticationTimeout: 3000,
  logLevel: logLevel.NOTHING,
};

it('produces and consumes with SCRAM-SHA-512 over TLS, the credentials read from Secrets Manager', async () => {
  secrets
    .on(GetSecretValueCommand, { SecretId: SECRET })
    .resolves({ SecretString: JSON.stringify({ username: 'ingest', password: broker.users.ingest }) });
  const config = loadConfig(env({ KAFKA_AUTH: 'scram', KAFKA_SCRAM_SECRET_ARN: SECRET }));

  const producer = await sharedProducer(config);
  await sendAll(producer, [{ topic, messages: [{ key: '203.0.113.9', value: 'over SASL_SSL' }] }]);

  const consumer = (await connectKafka(config)).consumer({
    groupId: uniqueName('scram-reader'),
    maxWaitTimeInMs: 100,
  });
  const seen: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(String(message.value)) });
    await waitFor(() => seen.length >= 1, 'the record back over SASL_SSL');
  } finally {
    await consumer.disconnect();
  }
  expect(seen).toEqual(['over SASL_SSL']);
  expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
});

it('refuses a wrong password', async () => {
  const config = loadConfig(
    env({ KAFKA_AUTH: 'scram', KAFKA_SASL_USERNAME: 'ingest', KAFKA_SASL_PASSWORD: 'not-the-password' }),
  );
  await expect(tryConnect(await connectKafka(config, once))).rejects.toThrow(
    /SASL SCRAM SHA512 authentication failed/,
  );
});

it('refuses an unknown user', async () => {
  const config = loadConfig(
    env({ KAFKA_AUTH: 'scram', KAFKA_SASL_USERNAME: 'nobody', KAFKA_SASL_PASSWORD: 'x' }),
  );
  await expect(tryConnect(await connectKafka(config, once))).rejects.toThrow(/authentication failed/);
});

// The broker closes the connection of a client that skips SASL; a port where nothing listens fails with
// ECONNREFUSED instead, so a refusal is told apart from a broker that is not there.
const CLOSED_BY_BROKER = 'Closed connection';

it('refuses a TLS client that does not authenticate', async () => {
  const config = loadConfig(env({ KAFKA_AUTH: 'tls' }));
  await expect(tryConnect(await connectKafka(config, once))).rejects.toThrow(CLOSED_BY_BROKER);
});

it('refuses a plaintext client on the TLS listener, which the plaintext listener lets in', async () => {
  const config = loadConfig(env({ KAFKA_AUTH: 'none' }));
  await expect(tryConnect(await connectKafka(config, once))).rejects.toThrow(CLOSED_BY_BROKER);
  const plain = loadConfig(env({ KAFKA_AUTH: 'none', KAFKA_BROKERS: broker.plainBrokers.join(',') }));
  await expect(tryConnect(await connectKafka(plain, once))).resolves.toBeUndefined();
});

it('tells a port where no broker listens from a refusal', async () => {
  const config = loadConfig(env({ KAFKA_AUTH: 'none', KAFKA_BROKERS: `127.0.0.1:${await freePort()}` }));
  const refused = tryConnect(await connectKafka(config, once));
  await expect(refused).rejects.toThrow(/ECONNREFUSED/);
  await expect(refused).rejects.not.toThrow(CLOSED_BY_BROKER);
});

it('refuses to talk to a broker whose certificate it does not trust', async () => {
  const config = loadConfig(
    env({
      KAFKA_AUTH: 'scram',
      KAFKA_SASL_USERNAME: 'ingest',
      KAFKA_SASL_PASSWORD: broker.users.ingest,
      KAFKA_TLS_CA_FILE: '',
    }),
  );
  await expect(tryConnect(await connectKafka(config, once))).rejects.toThrow(/self[- ]signed certificate/);
});
