import {
  KafkaEventDefinitionError,
  kafkaEventDefinitions,
  LAMBDA_DEFAULTS,
  parseKafkaEventDefinition,
} from '../../../offline-kafka-events/kafka-event-definition';

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
