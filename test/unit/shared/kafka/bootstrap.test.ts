import { GetBootstrapBrokersCommand, KafkaClient } from '@aws-sdk/client-kafka';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { loadConfig } from '../../../../shared/config';
import {
  BootstrapError,
  discoverBootstrapBrokers,
  forgetBootstrapBrokers,
} from '../../../../shared/kafka/bootstrap';
import { connectionOptions, scramCredentialsFromSecret } from '../../../../shared/kafka/msk-auth';

const CLUSTER = 'arn:aws:kafka:eu-west-1:123456789012:cluster/logs/0a1b2c3d-1111-2222-3333-444455556666-2';
// Secrets are kept per container once read: each test reads its own, so none sees another's answer.
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_nginx-AbCdEf';
const PLAIN_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_plain-GhIjKl';
const kafka = mockClient(KafkaClient);
const secrets = mockClient(SecretsManagerClient);

const ANSWER = {
  BootstrapBrokerStringTls:
    'b-1.logs.kafka.eu-west-1.amazonaws.com:9094,b-2.logs.kafka.eu-west-1.amazonaws.com:9094',
  BootstrapBrokerStringSaslIam:
    'b-1.logs.kafka.eu-west-1.amazonaws.com:9098,b-2.logs.kafka.eu-west-1.amazonaws.com:9098',
  BootstrapBrokerStringPublicSaslIam: 'b-1-public.logs.kafka.eu-west-1.amazonaws.com:9198',
};

beforeEach(() => {
  kafka.reset();
  secrets.reset();
  forgetBootstrapBrokers();
});

const connection = (auth: 'iam' | 'scram' | 'tls', endpoint: 'private' | 'public' = 'private') => ({
  clusterArn: CLUSTER,
  auth,
  endpoint,
  region: 'eu-west-1',
});

describe('discoverBootstrapBrokers', () => {
  it('picks the string for the authentication and asks once per container', async () => {
    kafka.on(GetBootstrapBrokersCommand, { ClusterArn: CLUSTER }).resolves(ANSWER);
    const first = await discoverBootstrapBrokers(connection('iam'));
    expect(first).toEqual([
      'b-1.logs.kafka.eu-west-1.amazonaws.com:9098',
      'b-2.logs.kafka.eu-west-1.amazonaws.com:9098',
    ]);
    expect(await discoverBootstrapBrokers(connection('iam'))).toBe(first);
    expect(await discoverBootstrapBrokers(connection('tls'))).toHaveLength(2);
    expect(await discoverBootstrapBrokers(connection('iam', 'public'))).toEqual([
      'b-1-public.logs.kafka.eu-west-1.amazonaws.com:9198',
    ]);
    expect(kafka.commandCalls(GetBootstrapBrokersCommand)).toHaveLength(3);
  });

  it('says clearly when the cluster has no endpoint for the authentication', async () => {
    kafka.on(GetBootstrapBrokersCommand).resolves(ANSWER);
    const failing = discoverBootstrapBrokers(connection('scram'));
    await expect(failing).rejects.toThrow(BootstrapError);
    await expect(failing).rejects.toThrow(
      /no private endpoint for SASL\/SCRAM authentication \(GetBootstrapBrokers has no BootstrapBrokerStringSaslScram; it offers BootstrapBrokerStringTls, BootstrapBrokerStringSaslIam, BootstrapBrokerStringPublicSaslIam\)/,
    );
  });

  it('does not cache failures: the next call asks again', async () => {
    kafka.on(GetBootstrapBrokersCommand).rejectsOnce(new Error('Rate exceeded')).resolves(ANSWER);
    await expect(discoverBootstrapBrokers(connection('iam'))).rejects.toThrow(
      /GetBootstrapBrokers failed for .*Rate exceeded.*kafka:GetBootstrapBrokers/,
    );
    await expect(discoverBootstrapBrokers(connection('iam'))).resolves.toHaveLength(2);
  });

  it('wants a cluster ARN', async () => {
    await expect(discoverBootstrapBrokers({ auth: 'iam', endpoint: 'private' })).rejects.toThrow(
      /set KAFKA_BROKERS, or MSK_CLUSTER_ARN/,
    );
  });
});

describe('connectionOptions', () => {
  it('locally: the configured brokers, no TLS, no SASL, no AWS call', async () => {
    expect(await connectionOptions(loadConfig({}))).toEqual({ brokers: ['127.0.0.1:9092'] });
    expect(kafka.calls()).toHaveLength(0);
  });

  it('MSK IAM: discovered brokers, TLS and OAUTHBEARER', async () => {
    kafka.on(GetBootstrapBrokersCommand).resolves(ANSWER);
    const options = await connectionOptions(loadConfig({ KAFKA_AUTH: 'iam', MSK_CLUSTER_ARN: CLUSTER }));
    expect(options.brokers).toHaveLength(2);
    expect(options.ssl).toBe(true);
    expect(options.sasl).toMatchObject({ mechanism: 'oauthbearer' });
  });

  it('MSK SCRAM: credentials from the Secrets Manager secret', async () => {
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslScram: 'b-1:9096' });
    secrets
      .on(GetSecretValueCommand, { SecretId: SECRET })
      .resolves({ SecretString: JSON.stringify({ username: 'ingest', password: 'pw' }) });
    const options = await connectionOptions(
      loadConfig({ KAFKA_AUTH: 'scram', MSK_CLUSTER_ARN: CLUSTER, KAFKA_SCRAM_SECRET_ARN: SECRET }),
    );
    expect(options).toEqual({
      brokers: ['b-1:9096'],
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'ingest', password: 'pw' },
    });
    await scramCredentialsFromSecret(SECRET);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('refuses a secret that is not {"username","password"}', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'just-a-password' });
    await expect(scramCredentialsFromSecret(PLAIN_SECRET)).rejects.toThrow(
      /must be a JSON string \{"username"/,
    );
  });
});
