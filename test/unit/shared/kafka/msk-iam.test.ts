/**
 * MSK IAM: the OAUTHBEARER provider signs a kafka-cluster:Connect request for the cluster's region with the
 * credentials of the default chain (here: fixed ones in the environment; signing needs no network).
 */
import { iamSasl, KafkaAuthError } from '../../../../shared/kafka/msk-auth';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

it('gives kafkajs a fresh token that signs kafka-cluster:Connect in the region', async () => {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  });
  delete process.env.AWS_PROFILE;
  const sasl = iamSasl('eu-west-1');
  expect(sasl.mechanism).toBe('oauthbearer');
  if (sasl.mechanism !== 'oauthbearer') return;
  const { value } = await sasl.oauthBearerProvider();
  const url = new URL(Buffer.from(value, 'base64url').toString('utf8'));
  expect(url.host).toBe('kafka.eu-west-1.amazonaws.com');
  expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect');
  expect(url.searchParams.get('X-Amz-Credential')).toMatch(
    /^AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/kafka-cluster\//,
  );
  expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
});

it('needs a region', () => {
  expect(() => iamSasl(undefined)).toThrow(KafkaAuthError);
  expect(() => iamSasl(undefined)).toThrow(
    'KAFKA_AUTH=iam needs the AWS region: set AWS_REGION or MSK_CLUSTER_ARN',
  );
});
