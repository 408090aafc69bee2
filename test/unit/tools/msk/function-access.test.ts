import {
  environmentKinds,
  readAccessDeclaration,
  splitEnvironment,
} from '../../../../tools/msk/function-access';

describe('readAccessDeclaration', () => {
  it('reads what each function touches', () => {
    expect(
      readAccessDeclaration(
        { ingest: { produces: ['KAFKA_TOPIC'], transactions: true }, stats: { redis: true }, dashboard: {} },
        ['ingest', 'stats', 'dashboard'],
      ),
    ).toEqual({
      ingest: { produces: ['KAFKA_TOPIC'], publishes: [], secrets: [], redis: false, transactions: true },
      stats: { produces: [], publishes: [], secrets: [], redis: true },
      dashboard: { produces: [], publishes: [], secrets: [], redis: false },
    });
  });

  it('names every function without an entry, every entry without a function, and bad fields, at once', () => {
    expect(() =>
      readAccessDeclaration(
        { ingest: { produces: ['nginx_logs'], writes: [], transactions: 'yes' }, gone: {} },
        ['ingest', 'stats'],
      ),
    ).toThrow(
      /ingest: unknown writes[\s\S]*transactions must be true or false[\s\S]*produces must be a list of environment variable names[\s\S]*stats has no entry[\s\S]*gone names no function/,
    );
  });
});

describe('per-function environment', () => {
  it('gives each function only the variables of what it uses', () => {
    const provider = {
      LOG_LEVEL: 'info',
      KAFKA_TOPIC: 'nginx_logs',
      KAFKA_AUTH: 'iam',
      REDIS_URL: 'rediss://r:6379',
      SNS_TOPIC_ARN: 'arn',
      READ_TOKEN: '',
    };
    const kinds = {
      ingest: environmentKinds(
        { produces: ['KAFKA_TOPIC'], publishes: [], secrets: [], redis: false },
        false,
      ),
      stats: environmentKinds({ produces: [], publishes: [], secrets: [], redis: true }, false),
      analytics: environmentKinds({ produces: [], publishes: [], secrets: [], redis: true }, true),
      dashboard: environmentKinds({ produces: [], publishes: [], secrets: [], redis: false }, false),
    };
    expect(kinds).toEqual({
      ingest: ['kafka'],
      stats: ['redis'],
      analytics: ['kafka', 'redis'],
      dashboard: [],
    });
    const { common, perFunction } = splitEnvironment(provider, kinds);
    expect(common).toEqual({ LOG_LEVEL: 'info' });
    expect(perFunction).toEqual({
      ingest: { KAFKA_TOPIC: 'nginx_logs', KAFKA_AUTH: 'iam' },
      stats: { REDIS_URL: 'rediss://r:6379' },
      analytics: { KAFKA_TOPIC: 'nginx_logs', KAFKA_AUTH: 'iam', REDIS_URL: 'rediss://r:6379' },
      dashboard: {},
    });
  });
});
