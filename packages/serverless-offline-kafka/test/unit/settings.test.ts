import { functionArn, placeholderClusterArn, readSettings } from '../../src/settings';

describe('readSettings (custom.kafkaEventSource)', () => {
  it('takes every setting from serverless.yml when given', () => {
    const settings = readSettings(
      {
        brokers: ['b1:9092', 'b2:9093'],
        deadLetterTopic: 'dead',
        region: 'eu-west-1',
        accountId: '123456789012',
        failureHeaders: { stage: 'handler', n: 1 },
        functions: { fn: { maximumRetryAttempts: 2 } },
      },
      'us-west-2',
      { KAFKA_BROKERS: 'env:1', KAFKA_DLQ_TOPIC: 'env-dead', AWS_REGION: 'ap-south-1' },
    );
    expect(settings).toEqual({
      brokers: ['b1:9092', 'b2:9093'],
      deadLetterTopic: 'dead',
      region: 'eu-west-1',
      accountId: '123456789012',
      failureHeaders: { stage: 'handler', n: '1' },
      functions: { fn: { maximumRetryAttempts: 2 } },
    });
  });

  it('falls back to the provider region, then the environment, then the documented defaults', () => {
    expect(readSettings(undefined, 'us-west-2', { KAFKA_BROKERS: 'h:1,h:2', KAFKA_DLQ_TOPIC: 'd' })).toEqual({
      brokers: ['h:1', 'h:2'],
      deadLetterTopic: 'd',
      region: 'us-west-2',
      accountId: '000000000000',
      failureHeaders: {},
      functions: {},
    });
    expect(readSettings({ brokers: '' }, undefined, { AWS_REGION: 'ap-south-1' })).toMatchObject({
      brokers: ['127.0.0.1:9092'],
      deadLetterTopic: undefined,
      region: 'ap-south-1',
    });
    expect(readSettings({}, undefined, {}).region).toBe('us-east-1');
  });

  it('refuses what it cannot use, naming the setting', () => {
    expect(() => readSettings({ broker: 'x:1' }, undefined, {})).toThrow(
      'custom.kafkaEventSource: unknown setting "broker"; known: brokers, deadLetterTopic',
    );
    expect(() => readSettings({ brokers: 'localhost' }, undefined, {})).toThrow(
      'custom.kafkaEventSource.brokers: "localhost" is not host:port',
    );
    expect(() => readSettings({}, undefined, { KAFKA_BROKERS: ' , ' })).toThrow('KAFKA_BROKERS is empty');
    expect(() => readSettings({ accountId: '42' }, undefined, {})).toThrow(
      'custom.kafkaEventSource.accountId must be 12 digits, not "42"',
    );
    expect(() => readSettings({ failureHeaders: { a: { b: 1 } } }, undefined, {})).toThrow(
      'custom.kafkaEventSource.failureHeaders.a must be a string',
    );
    expect(() => readSettings({ functions: 'fn' }, undefined, {})).toThrow(
      'custom.kafkaEventSource.functions must be a mapping',
    );
  });

  it('makes up ARNs in the configured region and account', () => {
    const where = { region: 'eu-west-1', accountId: '123456789012' };
    expect(functionArn(where, 'svc-dev-fn')).toBe(
      'arn:aws:lambda:eu-west-1:123456789012:function:svc-dev-fn',
    );
    expect(placeholderClusterArn(where)).toMatch(/^arn:aws:kafka:eu-west-1:123456789012:cluster\/local\//);
  });
});
