import {
  KafkaEventDefinitionError,
  kafkaEventDefinitions,
  LAMBDA_DEFAULTS,
  parseKafkaEventDefinition,
} from '../../src/kafka-event-definition';

describe('parseKafkaEventDefinition', () => {
  it('applies Lambda defaults where the event says nothing', () => {
    expect(
      parseKafkaEventDefinition('fn', 'msk', { arn: 'arn:aws:kafka:x', topic: 't' }, 'svc-local-fn'),
    ).toEqual({
      functionKey: 'fn',
      eventSource: 'aws:kafka',
      eventSourceArn: 'arn:aws:kafka:x',
      topic: 't',
      consumerGroupId: 'svc-local-fn',
      batchSize: LAMBDA_DEFAULTS.batchSize,
      maximumBatchingWindow: 0.5,
      startingPosition: 'TRIM_HORIZON',
      startingPositionTimestamp: undefined,
      enabled: true,
      filterPatterns: [],
      timeout: 6,
      errorHandling: {
        maximumRetryAttempts: -1,
        maximumRecordAgeInSeconds: -1,
        bisectBatchOnFunctionError: false,
        onFailure: undefined,
      },
    });
  });

  it('reads a self-managed kafka event as SelfManagedKafka without an ARN', () => {
    const d = parseKafkaEventDefinition(
      'fn',
      'kafka',
      { topic: 't', consumerGroupId: 'g', batchSize: 10, startingPosition: 'LATEST', enabled: false },
      'x',
    );
    expect(d).toMatchObject({
      eventSource: 'SelfManagedKafka',
      eventSourceArn: undefined,
      consumerGroupId: 'g',
      batchSize: 10,
      enabled: false,
    });
  });

  it.each([
    [{}, 'topic is required'],
    [{ topic: 't', batchSize: 0 }, 'batchSize must be a number from 1 to 10000'],
    [{ topic: 't', batchSize: 10001 }, 'batchSize must be a number from 1 to 10000'],
    [{ topic: 't', maximumBatchingWindow: 301 }, 'maximumBatchingWindow must be a number from 0 to 300'],
    [
      { topic: 't', startingPosition: 'EARLIEST' },
      'startingPosition must be TRIM_HORIZON, LATEST or AT_TIMESTAMP',
    ],
    [{ topic: 't', startingPosition: 'AT_TIMESTAMP' }, 'AT_TIMESTAMP needs startingPositionTimestamp'],
  ])('refuses %j', (raw, message) => {
    expect(() => parseKafkaEventDefinition('fn', 'msk', raw, 'g')).toThrow(KafkaEventDefinitionError);
    expect(() => parseKafkaEventDefinition('fn', 'msk', raw, 'g')).toThrow(
      `function fn, msk event: ${message}`,
    );
  });
});

describe('kafkaEventDefinitions', () => {
  it('finds every msk and kafka event and ignores the others', () => {
    const definitions = kafkaEventDefinitions('svc', 'local', {
      ingest: { events: [{ httpApi: { method: 'POST', path: '/ingest' } }] },
      a: { events: [{ msk: { arn: 'arn:x', topic: 't', consumerGroupId: 'g1' } }] },
      b: { events: [{ kafka: { topic: 't' } }, { msk: { arn: 'arn:x', topic: 'u' } }] },
      c: {},
    });
    expect(definitions.map((d) => [d.functionKey, d.topic, d.consumerGroupId])).toEqual([
      ['a', 't', 'g1'],
      ['b', 't', 'svc-local-b'],
      ['b', 'u', 'svc-local-b'],
    ]);
  });
});

describe('error handling and filters in the definition', () => {
  it('reads retry limits, record age, bisect and a kafka:// destination', () => {
    const d = parseKafkaEventDefinition(
      'fn',
      'msk',
      {
        topic: 't',
        maximumRetryAttempts: 3,
        maximumRecordAgeInSeconds: 60,
        bisectBatchOnFunctionError: true,
        destinations: { onFailure: 'kafka://t-dlt' },
        filterPatterns: [{ value: { a: [1] } }],
      },
      'g',
      30,
    );
    expect(d.errorHandling).toEqual({
      maximumRetryAttempts: 3,
      maximumRecordAgeInSeconds: 60,
      bisectBatchOnFunctionError: true,
      onFailure: { kind: 'kafka', topic: 't-dlt' },
    });
    expect(d.timeout).toBe(30);
    expect(d.filterPatterns).toEqual([{ value: { a: [1] } }]);
  });

  it("reads the framework's onFailureDestination of kafka events", () => {
    const d = parseKafkaEventDefinition(
      'fn',
      'kafka',
      { topic: 't', onFailureDestination: 'kafka://dlt' },
      'g',
    );
    expect(d.errorHandling.onFailure).toEqual({ kind: 'kafka', topic: 'dlt' });
  });

  it('caps infinite retries at 10 when a destination is set, as Lambda does', () => {
    const d = parseKafkaEventDefinition(
      'fn',
      'msk',
      { topic: 't', destinations: { onFailure: { arn: 'arn:aws:sqs:us-east-1:000000000000:q' } } },
      'g',
    );
    expect(d.errorHandling.maximumRetryAttempts).toBe(10);
    expect(d.errorHandling.onFailure).toEqual({ kind: 'arn', arn: 'arn:aws:sqs:us-east-1:000000000000:q' });
  });

  it.each([
    [{ topic: 't', maximumRetryAttempts: -2 }, 'maximumRetryAttempts must be -1'],
    [{ topic: 't', maximumRecordAgeInSeconds: 30 }, 'maximumRecordAgeInSeconds must be -1'],
    [
      { topic: 't', destinations: { onFailure: 'sqs' } },
      'must be kafka://<topic> or an SNS topic / SQS queue ARN',
    ],
    [{ topic: 't', destinations: 'kafka://t' }, 'cannot be the source topic'],
    [{ topic: 't', filterPatterns: [{ a: 'x' }] }, 'filterPatterns[0].a: leaves must be lists'],
    [{ topic: 't', batchsize: 10 }, 'unknown setting "batchsize"'],
    [{ topic: 't', enabled: 'no' }, 'enabled must be true or false'],
  ])('refuses %j', (raw, message) => {
    expect(() => parseKafkaEventDefinition('fn', 'msk', raw as never, 'g')).toThrow(message);
  });

  it('takes function and provider timeouts and local overrides from custom', () => {
    const [d] = kafkaEventDefinitions(
      'svc',
      'local',
      { fn: { timeout: 12, events: [{ msk: { arn: 'a', topic: 't' } }] } },
      { providerTimeout: 30, overrides: { fn: { maximumRetryAttempts: 1 } } },
    );
    expect(d!.timeout).toBe(12);
    expect(d!.errorHandling.maximumRetryAttempts).toBe(1);
    const [p] = kafkaEventDefinitions(
      'svc',
      'local',
      { fn: { events: [{ kafka: { topic: 't' } }] } },
      {
        providerTimeout: 30,
      },
    );
    expect(p!.timeout).toBe(30);
  });
});
