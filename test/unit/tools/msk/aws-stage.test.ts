import {
  checkBuildTarget,
  clusterResourceArn,
  functionStatements,
  mappingErrorHandling,
  MskStageError,
  planConsumerGroups,
  readMskStageSettings,
} from '../../../../tools/msk/aws-stage';

const CLUSTER = 'arn:aws:kafka:eu-west-1:123456789012:cluster/logs/0a1b2c3d-1111-2222-3333-444455556666-2';
const valid = { clusterArn: CLUSTER, subnetIds: 'subnet-0a,subnet-0b', securityGroupIds: 'sg-0c' };

/** What a function that writes topic t through Kafka in the VPC touches, and nothing else. */
const writer = (functionName: string) => ({
  functionKey: functionName,
  functionName,
  reads: [] as Array<{ topic: string; group?: string }>,
  writes: ['t'],
  publishes: [] as string[],
  secrets: [] as string[],
  kafka: true,
  vpc: true,
});

describe('planConsumerGroups', () => {
  const event = (functionKey: string, handler: string, consumerGroupId?: string, topic = 'nginx_logs') => ({
    functionKey,
    handler,
    topic,
    consumerGroupId,
  });

  it('keeps distinct groups as they are', () => {
    expect(planConsumerGroups([event('a', 'h.a', 'ga'), event('b', 'h.b', 'gb')]).dropped).toEqual([]);
  });

  it('maps replicas of one handler in one group to the first function', () => {
    expect(
      planConsumerGroups([
        event('summarizerA', 'functions/summarizer.handler', 'summarizers'),
        event('summarizerB', 'functions/summarizer.handler', 'summarizers'),
      ]).dropped,
    ).toEqual([{ functionKey: 'summarizerB', keptAs: 'summarizerA', group: 'summarizers' }]);
  });

  it('refuses different handlers in one group, saying what to change', () => {
    expect(() =>
      planConsumerGroups([
        event('a', 'functions/a.handler', 'shared'),
        event('b', 'functions/b.handler', 'shared'),
      ]),
    ).toThrow(
      /consumer group "shared" is shared by a \(functions\/a.handler\), b \(functions\/b.handler\).*own consumerGroupId/s,
    );
  });

  it('refuses one group on two topics in different functions', () => {
    const plan = () => planConsumerGroups([event('a', 'h', 'g', 't1'), event('b', 'h', 'g', 't2')]);
    expect(plan).toThrow(MskStageError);
    expect(plan).toThrow(
      'consumer group "g" is used by a and b on different topics; give each event its own consumerGroupId',
    );
  });

  it('leaves events without a group ID alone (Lambda makes unique ones)', () => {
    expect(planConsumerGroups([event('a', 'h'), event('b', 'h')]).dropped).toEqual([]);
  });
});

describe('readMskStageSettings', () => {
  it('reads a complete IAM stage', () => {
    expect(readMskStageSettings(valid, 'aws')).toMatchObject({
      clusterArn: CLUSTER,
      subnetIds: ['subnet-0a', 'subnet-0b'],
      securityGroupIds: ['sg-0c'],
      auth: 'iam',
      createCluster: false,
    });
  });

  it('names every missing parameter at once', () => {
    expect(() => readMskStageSettings({ clusterArn: 'arn:unset' }, 'aws')).toThrow(
      /mskClusterArn is not set[\s\S]*mskSubnetIds[\s\S]*mskSecurityGroupIds/,
    );
  });

  it('wants a Secrets Manager secret named AmazonMSK_ for SCRAM', () => {
    expect(() =>
      readMskStageSettings(
        {
          ...valid,
          auth: 'scram',
          scramSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mine',
        },
        'aws',
      ),
    ).toThrow(/AmazonMSK_/);
  });

  it('creates only IAM clusters', () => {
    expect(() => readMskStageSettings({ ...valid, createCluster: 'true', auth: 'scram' }, 'aws')).toThrow(
      /only offers IAM/,
    );
  });
});

describe('clusterResourceArn', () => {
  it('derives topic and group ARNs from a cluster ARN', () => {
    expect(clusterResourceArn(CLUSTER, 'topic', 'nginx_logs')).toBe(
      'arn:aws:kafka:eu-west-1:123456789012:topic/logs/0a1b2c3d-1111-2222-3333-444455556666-2/nginx_logs',
    );
    expect(clusterResourceArn(CLUSTER, 'group', 'g')).toBe(
      'arn:aws:kafka:eu-west-1:123456789012:group/logs/0a1b2c3d-1111-2222-3333-444455556666-2/g',
    );
  });
});

describe('the stage refuses what would fail on AWS', () => {
  const withRedis = { ...valid, redisUrl: 'rediss://nks.abc.euw1.cache.amazonaws.com:6379' };
  const context = { region: 'eu-west-1', needsRedis: true };

  it('wants a TLS Redis endpoint when a function uses Redis', () => {
    expect(readMskStageSettings(withRedis, 'aws', context).redisUrl).toBe(withRedis.redisUrl);
    expect(() => readMskStageSettings(valid, 'aws', context)).toThrow(
      /redisUrl is not set.*--param="redisUrl=rediss:/s,
    );
    for (const url of ['redis://nks.example:6379', 'rediss://127.0.0.1:6379', 'rediss://localhost:6379']) {
      expect(() => readMskStageSettings({ ...valid, redisUrl: url }, 'aws', context)).toThrow(
        /is not a TLS Redis endpoint/,
      );
    }
  });

  it('wants every ARN in the stack region and one account', () => {
    expect(() => readMskStageSettings(withRedis, 'aws', { ...context, region: 'us-east-1' })).toThrow(
      /mskClusterArn is in region eu-west-1 but the stack deploys to us-east-1/,
    );
    expect(() =>
      readMskStageSettings({ ...withRedis, awsAccountId: '999999999999' }, 'aws', context),
    ).toThrow(/different accounts \(123456789012, 999999999999\)/);
  });

  it("wants the SCRAM secret's KMS key, and scopes kms:Decrypt to it", () => {
    const scram = {
      ...withRedis,
      auth: 'scram',
      scramSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_nginx-AbCdEf',
    };
    expect(() => readMskStageSettings(scram, 'aws', context)).toThrow(/scramKmsKeyArn/);
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const settings = readMskStageSettings({ ...scram, scramKmsKeyArn: key }, 'aws', context);
    const access = writer('f');
    const decrypt = functionStatements(settings, access).find((s) => s.Action.includes('kms:Decrypt'));
    expect(decrypt?.Resource).toBe(key);
  });

  it("lets a writer use transactions and read its topics' size limit, under IAM, on its own ids only", () => {
    const settings = readMskStageSettings(withRedis, 'aws', context);
    const access = { ...writer('svc-aws-ingest'), transactions: true };
    const statements = functionStatements(settings, access);
    const transactions = statements.find((s) => s.Action.includes('kafka-cluster:AlterTransactionalId'));
    expect(transactions?.Action).toEqual([
      'kafka-cluster:DescribeTransactionalId',
      'kafka-cluster:AlterTransactionalId',
    ]);
    expect(String(transactions?.Resource)).toMatch(/:transactional-id\/.+\/\*-svc-aws-ingest-\*$/);
    const write = statements.find((s) => s.Action.includes('kafka-cluster:WriteData'));
    expect(write?.Action).toContain('kafka-cluster:DescribeTopicDynamicConfiguration');
    // Settling an unanswered commit reads its own topics back, in its own settle groups only.
    const readBack = statements.find((s) => s.Action.includes('kafka-cluster:ReadData'));
    expect(readBack?.Resource).toEqual(write?.Resource);
    const groups = statements.find((s) => s.Action.includes('kafka-cluster:AlterGroup'));
    expect(String(groups?.Resource)).toMatch(/:group\/.+\/\*-svc-aws-ingest-\*-settle$/);
    const reader = functionStatements(settings, {
      ...access,
      writes: [],
      reads: [{ topic: 't', group: 'g' }],
    });
    expect(reader.some((s) => s.Action.includes('kafka-cluster:AlterTransactionalId'))).toBe(false);
    // A writer that declares no transactions gets neither transactional ids nor the read-back.
    const plain = functionStatements(settings, writer('svc-aws-analytics'));
    expect(plain.some((s) => s.Action.includes('kafka-cluster:AlterTransactionalId'))).toBe(false);
    expect(plain.some((s) => s.Action.includes('kafka-cluster:ReadData'))).toBe(false);
  });

  it('wants the bundle built for the runtime', () => {
    expect(() => checkBuildTarget('nodejs22.x', { target: 'node20' })).toThrow(/set it to node22/);
    expect(() => checkBuildTarget('nodejs22.x', { target: 'node22' })).not.toThrow();
  });

  it('compiles Lambda error handling into mapping properties, provisioned when customised', () => {
    expect(
      mappingErrorHandling(
        {
          maximumRetryAttempts: 10,
          maximumRecordAgeInSeconds: -1,
          bisectBatchOnFunctionError: true,
          onFailure: { kind: 'kafka', topic: 'dlq' },
        },
        3,
      ),
    ).toEqual({
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: -1,
      BisectBatchOnFunctionError: true,
      DestinationConfig: { OnFailure: { Destination: 'kafka://dlq' } },
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 3 },
    });
    expect(
      mappingErrorHandling(
        { maximumRetryAttempts: -1, maximumRecordAgeInSeconds: -1, bisectBatchOnFunctionError: false },
        3,
      ),
    ).toEqual({ MaximumRetryAttempts: -1, MaximumRecordAgeInSeconds: -1, BisectBatchOnFunctionError: false });
  });
});
