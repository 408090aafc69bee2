import { loadConfig, loadConnectionConfig } from '../../../../shared/config';

const ARN = 'arn:aws:kafka:eu-west-1:123456789012:cluster/logs/0a1b2c3d-1111-2222-3333-444455556666-2';

it('locally: plaintext, the default broker, nothing to discover', () => {
  expect(loadConfig({})).toMatchObject({
    brokers: ['127.0.0.1:9092'],
    connection: { auth: 'none', endpoint: 'private' },
  });
});

it('locally, without KAFKA_BROKERS: the broker kafka:start runs on LOCAL_KAFKA_PORT', () => {
  expect(loadConfig({ LOCAL_KAFKA_PORT: '19600' }).brokers).toEqual(['127.0.0.1:19600']);
  expect(loadConfig({ LOCAL_KAFKA_PORT: '19600', KAFKA_BROKERS: 'kafka-1:9092' }).brokers).toEqual([
    'kafka-1:9092',
  ]);
});

it('on AWS: no brokers configured means discover them from the cluster ARN, in its region', () => {
  const config = loadConfig({ KAFKA_AUTH: 'iam', MSK_CLUSTER_ARN: ARN });
  expect(config.brokers).toEqual([]);
  expect(config.connection).toMatchObject({ auth: 'iam', clusterArn: ARN, region: 'eu-west-1' });
});

it('KAFKA_BROKERS wins over discovery', () => {
  expect(loadConfig({ KAFKA_AUTH: 'iam', MSK_CLUSTER_ARN: ARN, KAFKA_BROKERS: 'b-1:9098' }).brokers).toEqual([
    'b-1:9098',
  ]);
});

it('says what is wrong with the settings', () => {
  expect(() => loadConnectionConfig({ KAFKA_AUTH: 'kerberos' })).toThrow(
    /KAFKA_AUTH must be one of none, tls, iam, scram/,
  );
  expect(() => loadConnectionConfig({ MSK_CLUSTER_ARN: 'arn:aws:kafka:eu-west-1:1:cluster/x' })).toThrow(
    /not an MSK cluster ARN/,
  );
  expect(() => loadConnectionConfig({ MSK_ENDPOINT: 'internet' })).toThrow(
    /MSK_ENDPOINT must be private or public/,
  );
  expect(() => loadConnectionConfig({ KAFKA_AUTH: 'scram' })).toThrow(/needs KAFKA_SCRAM_SECRET_ARN/);
});
