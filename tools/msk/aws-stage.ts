/**
 * What an AWS stage adds to the same functions: settings read from serverless.yml's `custom.msk` (filled
 * from the stage's params), the consumer-group rule Lambda enforces, and one least-privilege IAM role per
 * function. Pure functions over plain objects; the serverless plugin beside this applies them.
 */

export type CfValue = string | Record<string, unknown>;

export interface MskStageSettings {
  /** Cluster ARN, or a CloudFormation Ref to the cluster the stack creates. */
  clusterArn: CfValue;
  subnetIds: string[];
  securityGroupIds: string[];
  auth: 'iam' | 'scram';
  scramSecretArn?: string;
  createCluster: boolean;
  /** The customer managed KMS key the SCRAM secret is encrypted with (kafkaAuth=scram). */
  scramKmsKeyArn?: string;
  /** The stage's Redis (ElastiCache, TLS): `rediss://host:port`, when a function uses Redis. */
  redisUrl?: string;
  /** The Redis cluster's security group: when given, the stack opens its port to the functions' groups. */
  redisSecurityGroupId?: string;
  /** CloudWatch alarms on the consumers and the HTTP API. */
  alarms: { enabled: boolean; topicArn?: string; offsetLag: number };
  /** Upper bound of provisioned event pollers per event source mapping (when error handling needs them). */
  maximumPollers: number;
}

export class MskStageError extends Error {}

export const CREATED_CLUSTER_ID = 'MskServerlessCluster';
const CLUSTER_ARN = /^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster\/[^/]+\/[^/]+$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:AmazonMSK_[^:]+$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]+$/;
const SNS_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/;
/** The example account in the local stage's placeholder ARNs. */
export const PLACEHOLDER_ACCOUNT = '000000000000';

/** Region and account of an ARN (`arn:partition:service:region:account:...`). */
export const arnRegion = (arn: string): string => arn.split(':')[3] ?? '';
export const arnAccount = (arn: string): string => arn.split(':')[4] ?? '';

export interface StageContext {
  /** The provider's region: every ARN given must be in it. */
  region: string;
  /** Whether any deployed function uses Redis. */
  needsRedis: boolean;
}

const list = (value: unknown): string[] =>
  (Array.isArray(value) ? value.map(String) : String(value ?? '').split(','))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/** Reads and checks `custom.msk`; every error says which param or variable to set. */
export function readMskStageSettings(
  raw: Record<string, unknown>,
  stage: string,
  context: StageContext = { region: '', needsRedis: false },
): MskStageSettings {
  const problems: string[] = [];
  const createCluster = String(raw.createCluster ?? 'false') === 'true';
  // serverless.yml's placeholder when no ARN is given (msk events must name something that looks like an ARN).
  const arn = String(raw.clusterArn ?? '').trim() === 'arn:unset' ? '' : String(raw.clusterArn ?? '').trim();
  if (!createCluster && !CLUSTER_ARN.test(arn)) {
    problems.push(
      `mskClusterArn ${arn ? `"${arn}" is not an MSK cluster ARN` : 'is not set'}: pass --param="mskClusterArn=arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>" ` +
        '(or set MSK_CLUSTER_ARN), or --param="createCluster=true" to create an MSK Serverless cluster',
    );
  }
  const subnetIds = list(raw.subnetIds);
  if (subnetIds.length === 0 || subnetIds.some((s) => !/^subnet-[0-9a-f]+$/.test(s))) {
    problems.push(
      `mskSubnetIds must be the cluster's subnets, comma-separated (subnet-...), not "${subnetIds.join(',')}": ` +
        'pass --param="mskSubnetIds=subnet-aaa,subnet-bbb" (or set MSK_SUBNET_IDS)',
    );
  }
  const securityGroupIds = list(raw.securityGroupIds);
  if (securityGroupIds.length === 0 || securityGroupIds.some((s) => !/^sg-[0-9a-f]+$/.test(s))) {
    problems.push(
      `mskSecurityGroupIds must be security groups that reach the brokers (sg-...), not "${securityGroupIds.join(',')}": ` +
        'pass --param="mskSecurityGroupIds=sg-aaa" (or set MSK_SECURITY_GROUP_IDS)',
    );
  }
  const auth = String(raw.auth ?? 'iam');
  if (auth !== 'iam' && auth !== 'scram') {
    problems.push(`kafkaAuth must be iam or scram, not "${auth}"`);
  }
  const scramSecretArn = String(raw.scramSecretArn ?? '').trim() || undefined;
  if (auth === 'scram' && (!scramSecretArn || !SECRET_ARN.test(scramSecretArn))) {
    problems.push(
      `kafkaAuth=scram needs scramSecretArn, the ARN of a Secrets Manager secret whose name starts with AmazonMSK_ ` +
        `(not "${scramSecretArn ?? ''}"): pass --param="scramSecretArn=arn:aws:secretsmanager:...:secret:AmazonMSK_..." (or set KAFKA_SCRAM_SECRET_ARN)`,
    );
  }
  if (createCluster && auth !== 'iam') {
    problems.push(
      'createCluster=true makes an MSK Serverless cluster, which only offers IAM: use kafkaAuth=iam',
    );
  }
  const scramKmsKeyArn = String(raw.scramKmsKeyArn ?? '').trim() || undefined;
  if (auth === 'scram' && (!scramKmsKeyArn || !KMS_KEY_ARN.test(scramKmsKeyArn))) {
    problems.push(
      `kafkaAuth=scram needs scramKmsKeyArn, the customer managed KMS key the secret is encrypted with (not "${scramKmsKeyArn ?? ''}"): ` +
        'pass --param="scramKmsKeyArn=arn:aws:kms:<region>:<account>:key/<id>" (or set MSK_SCRAM_KMS_KEY_ARN)',
    );
  }
  const redisUrl = String(raw.redisUrl ?? '').trim() || undefined;
  if (context.needsRedis) {
    if (
      !redisUrl ||
      !/^rediss:\/\/[^/\s]+(:\d+)?\/?$/.test(redisUrl) ||
      /localhost|127\.0\.0\.1/.test(redisUrl)
    ) {
      problems.push(
        `redisUrl ${redisUrl ? `"${redisUrl}" is not a TLS Redis endpoint` : 'is not set'}: analytics, alerts and stats keep their state in Redis. ` +
          'Pass --param="redisUrl=rediss://<primary endpoint>:6379" (or set AWS_REDIS_URL): an ElastiCache for Valkey/Redis OSS ' +
          'cluster with in-transit encryption and cluster mode disabled, in the subnets above; and ' +
          '--param="redisSecurityGroupId=sg-..." (its security group) so the stack opens its port to the functions',
      );
    }
  }
  const redisSecurityGroupId = String(raw.redisSecurityGroupId ?? '').trim() || undefined;
  if (redisSecurityGroupId && !/^sg-[0-9a-f]+$/.test(redisSecurityGroupId)) {
    problems.push(`redisSecurityGroupId must be a security group (sg-...), not "${redisSecurityGroupId}"`);
  }
  const alarmTopicArn = String(raw.alarmTopicArn ?? '').trim() || undefined;
  if (alarmTopicArn && !SNS_ARN.test(alarmTopicArn)) {
    problems.push(`alarmTopicArn must be an SNS topic ARN, not "${alarmTopicArn}"`);
  }
  const offsetLag = Number(raw.alarmOffsetLag ?? 1000);
  if (!Number.isInteger(offsetLag) || offsetLag < 1) {
    problems.push(
      `alarmOffsetLag must be a whole number of records above 0, not "${String(raw.alarmOffsetLag)}"`,
    );
  }
  const maximumPollers = Number(raw.maximumPollers ?? 3);
  if (!Number.isInteger(maximumPollers) || maximumPollers < 1 || maximumPollers > 2000) {
    problems.push(
      `maximumPollers must be a whole number from 1 to 2000, not "${String(raw.maximumPollers)}"`,
    );
  }

  // Region and account: every ARN given must be in the stack's region, and all in one account.
  const arns: Array<[string, string | undefined]> = [
    ['mskClusterArn', createCluster ? undefined : arn],
    ['scramSecretArn', auth === 'scram' ? scramSecretArn : undefined],
    ['scramKmsKeyArn', auth === 'scram' ? scramKmsKeyArn : undefined],
    ['alarmTopicArn', alarmTopicArn],
  ];
  const given = arns.filter((a): a is [string, string] => !!a[1] && a[1].split(':').length >= 6);
  if (context.region) {
    for (const [name, value] of given) {
      if (arnRegion(value) !== context.region) {
        problems.push(
          `${name} is in region ${arnRegion(value)} but the stack deploys to ${context.region}: ` +
            `deploy with --region ${arnRegion(value)}, or name a resource in ${context.region}`,
        );
      }
    }
  }
  const accounts = new Set(given.map(([, value]) => arnAccount(value)));
  const account = String(raw.awsAccountId ?? '').trim();
  if (account && account !== PLACEHOLDER_ACCOUNT) accounts.add(account);
  if (accounts.size > 1) {
    problems.push(
      `the ARNs given name different accounts (${[...accounts].join(', ')}): ` +
        given.map(([name, value]) => `${name} ${arnAccount(value)}`).join(', ') +
        (account && account !== PLACEHOLDER_ACCOUNT ? `, awsAccountId ${account}` : '') +
        '; the stack, the cluster and its secrets must be in one account',
    );
  }

  if (problems.length > 0) {
    throw new MskStageError(`stage ${stage} deploys to Amazon MSK, but:\n  - ${problems.join('\n  - ')}`);
  }
  return {
    clusterArn: createCluster ? { Ref: CREATED_CLUSTER_ID } : arn,
    subnetIds,
    securityGroupIds,
    auth: auth as 'iam' | 'scram',
    scramSecretArn,
    createCluster,
    scramKmsKeyArn: auth === 'scram' ? scramKmsKeyArn : undefined,
    redisUrl: context.needsRedis ? redisUrl : undefined,
    redisSecurityGroupId,
    alarms: { enabled: String(raw.alarms ?? 'true') !== 'false', topicArn: alarmTopicArn, offsetLag },
    maximumPollers,
  };
}

export interface MskEventRef {
  functionKey: string;
  handler: string;
  topic: string;
  consumerGroupId?: string;
}

export interface GroupPlan {
  /** Functions left out of the AWS stack, each with why. */
  dropped: Array<{ functionKey: string; keptAs: string; group: string }>;
}

/**
 * Lambda requires a consumer group ID to be unique among all of an account's Kafka event sources, so two
 * functions cannot share one as they do locally. Functions that share a group and run the same handler are
 * replicas of one consumer (the local load-balancing demo): on AWS the first one stays and Lambda's pollers
 * split the partitions between its concurrent invocations. Functions that share a group but run different
 * handlers cannot be mapped; that is an error saying what to change.
 */
export function planConsumerGroups(events: MskEventRef[]): GroupPlan {
  const byGroup = new Map<string, MskEventRef[]>();
  for (const event of events) {
    if (!event.consumerGroupId) continue; // Lambda then makes a unique one
    const key = `${event.topic}\u0000${event.consumerGroupId}`;
    byGroup.set(key, [...(byGroup.get(key) ?? []), event]);
  }
  const dropped: GroupPlan['dropped'] = [];
  const problems: string[] = [];
  const groupOwners = new Map<string, string>();
  for (const members of byGroup.values()) {
    const [first, ...rest] = members as [MskEventRef, ...MskEventRef[]];
    const group = first.consumerGroupId as string;
    const other = groupOwners.get(group);
    if (other && other !== first.functionKey) {
      problems.push(
        `consumer group "${group}" is used by ${other} and ${first.functionKey} on different topics; give each event its own consumerGroupId`,
      );
    }
    groupOwners.set(group, first.functionKey);
    const distinct = members.filter((m) => m.functionKey !== first.functionKey);
    if (distinct.length === 0) continue;
    const differing = rest.filter((m) => m.handler !== first.handler);
    if (differing.length > 0) {
      problems.push(
        `consumer group "${group}" is shared by ${members.map((m) => `${m.functionKey} (${m.handler})`).join(', ')}. ` +
          'Lambda requires every Kafka event source of an account to have its own consumer group ID. ' +
          'For fanout give each function its own consumerGroupId; for load balancing deploy one function for the ' +
          'group (Lambda scales its pollers to split the partitions).',
      );
      continue;
    }
    for (const m of distinct) {
      if (!dropped.some((d) => d.functionKey === m.functionKey)) {
        dropped.push({ functionKey: m.functionKey, keptAs: first.functionKey, group });
      }
    }
  }
  if (problems.length > 0) throw new MskStageError(problems.join('\n'));
  return { dropped };
}

/**
 * An MSK resource ARN (topic, group or transactional id) on the same cluster as `clusterArn`, as a string or a
 * CF expression.
 */
export function clusterResourceArn(
  clusterArn: CfValue,
  kind: 'topic' | 'group' | 'transactional-id',
  name: string,
): CfValue {
  if (typeof clusterArn === 'string') {
    const [prefix, rest] = clusterArn.split(':cluster/') as [string, string];
    return `${prefix}:${kind}/${rest}/${name}`;
  }
  return {
    'Fn::Join': [
      '',
      [
        { 'Fn::Select': [0, { 'Fn::Split': [':cluster/', clusterArn] }] },
        `:${kind}/`,
        { 'Fn::Select': [1, { 'Fn::Split': ['/', clusterArn] }] },
        '/',
        { 'Fn::Select': [2, { 'Fn::Split': ['/', clusterArn] }] },
        `/${name}`,
      ],
    ],
  };
}

/** Everything one function's role must allow, derived from custom.access and the function's events. */
export interface RoleInputs {
  functionKey: string;
  /** The deployed function name (for its log group). */
  functionName: string;
  /** Topics (and groups) its msk events read. */
  reads: Array<{ topic: string; group?: string }>;
  /** Topics it produces to, its event source mappings' Kafka on-failure destinations included. */
  writes: string[];
  /** SNS topics it publishes to, its `onError` and on-failure destinations included. */
  publishes: CfValue[];
  /** Secrets Manager secrets it reads (besides the SCRAM secret, which comes with Kafka). */
  secrets: CfValue[];
  /** It talks to the cluster (reads or produces). */
  kafka: boolean;
  /** It produces in transactions (custom.access: `transactions: true`). */
  transactions?: boolean;
  /** It runs in the VPC (Kafka or Redis). */
  vpc: boolean;
}

type Statement = { Effect: 'Allow'; Action: string[]; Resource: CfValue | CfValue[]; Condition?: unknown };

const ENI_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
  'ec2:DescribeVpcs',
  'ec2:DescribeSubnets',
  'ec2:DescribeSecurityGroups',
];

/** The statements one function needs, and nothing more. */
export function functionStatements(settings: MskStageSettings, access: RoleInputs): Statement[] {
  const cluster = settings.clusterArn;
  const logGroup = {
    'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${access.functionName}:*`,
  };
  const statements: Statement[] = [
    { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: logGroup },
  ];
  if (access.vpc) {
    // Network interfaces in the cluster's VPC: for the function itself (Kafka, Redis) and for its MSK event
    // source mapping. EC2 does not scope these actions to resources.
    statements.push({ Effect: 'Allow', Action: ENI_ACTIONS, Resource: '*' });
  }
  if (access.publishes.length > 0) {
    statements.push({ Effect: 'Allow', Action: ['sns:Publish'], Resource: unique(access.publishes) });
  }
  if (access.secrets.length > 0) {
    statements.push({
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: unique(access.secrets),
    });
  }
  if (!access.kafka) return statements;
  statements.push({
    Effect: 'Allow',
    Action: ['kafka:DescribeCluster', 'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'],
    Resource: cluster,
  });
  if (settings.auth === 'iam') {
    const clusterActions = ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'];
    if (access.reads.length > 0) clusterActions.push('kafka-cluster:DescribeClusterDynamicConfiguration');
    if (access.writes.length > 0) clusterActions.push('kafka-cluster:WriteDataIdempotently');
    statements.push({ Effect: 'Allow', Action: clusterActions, Resource: cluster });
    const readTopics = [...new Set(access.reads.map((r) => r.topic))];
    if (readTopics.length > 0) {
      statements.push({
        Effect: 'Allow',
        Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
        Resource: readTopics.map((t) => clusterResourceArn(cluster, 'topic', t)),
      });
    }
    const groups = [...new Set(access.reads.map((r) => r.group).filter((g): g is string => !!g))];
    if (groups.length > 0) {
      statements.push({
        Effect: 'Allow',
        Action: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
        Resource: groups.map((g) => clusterResourceArn(cluster, 'group', g)),
      });
    }
    if (access.writes.length > 0) {
      statements.push({
        Effect: 'Allow',
        // DescribeTopicDynamicConfiguration: producers size their requests from the topic's max.message.bytes.
        Action: [
          'kafka-cluster:DescribeTopic',
          'kafka-cluster:DescribeTopicDynamicConfiguration',
          'kafka-cluster:WriteData',
        ],
        Resource: [...new Set(access.writes)].map((t) => clusterResourceArn(cluster, 'topic', t)),
      });
    }
    if (access.transactions && access.writes.length > 0) {
      // Requests are produced in transactions (shared/kafka/atomic-producer.ts): one transactional id per
      // function instance, named after the function.
      statements.push({
        Effect: 'Allow',
        Action: ['kafka-cluster:DescribeTransactionalId', 'kafka-cluster:AlterTransactionalId'],
        Resource: clusterResourceArn(cluster, 'transactional-id', `*-${access.functionName}-*`),
      });
      // A commit sent but not answered is settled by reading back the transaction's first record as a
      // consumer of committed records, in a group named after the transactional id (atomic-producer.ts).
      statements.push(
        {
          Effect: 'Allow',
          Action: ['kafka-cluster:ReadData'],
          Resource: [...new Set(access.writes)].map((t) => clusterResourceArn(cluster, 'topic', t)),
        },
        {
          Effect: 'Allow',
          Action: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
          Resource: clusterResourceArn(cluster, 'group', `*-${access.functionName}-*-settle`),
        },
      );
    }
  } else if (settings.scramSecretArn) {
    statements.push(
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: settings.scramSecretArn },
      {
        // MSK SCRAM secrets are encrypted with a customer managed key: that key, and only through Secrets
        // Manager.
        Effect: 'Allow',
        Action: ['kms:Decrypt'],
        Resource: settings.scramKmsKeyArn as string,
        Condition: {
          StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'secretsmanager.${AWS::Region}.amazonaws.com' } },
        },
      },
    );
  }
  return statements;
}

/** Distinct values (strings or CloudFormation expressions), in first-seen order. */
function unique(values: CfValue[]): CfValue[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const key = JSON.stringify(v);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** An IAM role for one function: Lambda may assume it; its only policy is `statements`. */
export function roleResource(functionKey: string, statements: Statement[]): Record<string, unknown> {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] },
        ],
      },
      Policies: [
        {
          PolicyName: `${functionKey}-access`,
          PolicyDocument: { Version: '2012-10-17', Statement: statements },
        },
      ],
    },
  };
}

/** The opt-in demo cluster: MSK Serverless (IAM only) in the stage's subnets and security groups. */
export function serverlessClusterResource(
  name: string,
  settings: Pick<MskStageSettings, 'subnetIds' | 'securityGroupIds'>,
): Record<string, unknown> {
  return {
    Type: 'AWS::MSK::ServerlessCluster',
    Properties: {
      ClusterName: name,
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } } },
      VpcConfigs: [{ SubnetIds: settings.subnetIds, SecurityGroups: settings.securityGroupIds }],
    },
  };
}

/** Lambda's Kafka error handling as the local event source (serverless-offline-kafka) reads it. */
export interface MappingErrorHandling {
  maximumRetryAttempts: number;
  maximumRecordAgeInSeconds: number;
  bisectBatchOnFunctionError: boolean;
  onFailure?: { kind: 'kafka'; topic: string } | { kind: 'arn'; arn: string };
}

/**
 * The event source mapping properties that give a function on AWS the error handling it has locally: the
 * framework's msk schema cannot say them, so they are set on the compiled resource. AWS offers retry limits,
 * record age and batch splitting for Kafka event sources only in provisioned mode, so a mapping that sets any
 * of them gets a provisioned poller configuration (at least one poller, always on and billed).
 */
export function mappingErrorHandling(
  handling: MappingErrorHandling,
  maximumPollers: number,
): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    MaximumRetryAttempts: handling.maximumRetryAttempts,
    MaximumRecordAgeInSeconds: handling.maximumRecordAgeInSeconds,
    BisectBatchOnFunctionError: handling.bisectBatchOnFunctionError,
  };
  if (handling.onFailure) {
    properties.DestinationConfig = {
      OnFailure: {
        Destination:
          handling.onFailure.kind === 'kafka'
            ? `kafka://${handling.onFailure.topic}`
            : handling.onFailure.arn,
      },
    };
  }
  const customised =
    handling.maximumRetryAttempts !== -1 ||
    handling.maximumRecordAgeInSeconds !== -1 ||
    handling.bisectBatchOnFunctionError ||
    handling.onFailure !== undefined;
  if (customised) {
    properties.ProvisionedPollerConfig = { MinimumPollers: 1, MaximumPollers: maximumPollers };
  }
  return properties;
}

type Resources = Record<string, Record<string, unknown>>;

const alarm = (
  description: string,
  metric: Record<string, unknown>,
  threshold: number,
  topicArn: string | undefined,
): Record<string, unknown> => ({
  Type: 'AWS::CloudWatch::Alarm',
  Properties: {
    AlarmDescription: description,
    ...metric,
    Period: 60,
    EvaluationPeriods: 5,
    DatapointsToAlarm: 3,
    Threshold: threshold,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    ...(topicArn ? { AlarmActions: [topicArn], OKActions: [topicArn] } : {}),
  },
});

/**
 * CloudWatch alarms: OffsetLag, Errors and Throttles of each Kafka consumer, Errors of every other function,
 * and 5xx answers of the HTTP API. Each alarms when 3 of 5 one-minute periods breach.
 */
export function alarmResources(
  settings: Pick<MskStageSettings, 'alarms'>,
  functions: Array<{ logicalId: string; consumer: boolean }>,
  httpApiId: string | undefined,
): Resources {
  const resources: Resources = {};
  if (!settings.alarms.enabled) return resources;
  const topic = settings.alarms.topicArn;
  for (const { logicalId, consumer } of functions) {
    const name = logicalId.replace(/LambdaFunction$/, '');
    const lambdaMetric = (metricName: string, statistic: string) => ({
      Namespace: 'AWS/Lambda',
      MetricName: metricName,
      Statistic: statistic,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId } }],
    });
    resources[`${name}ErrorsAlarm`] = alarm(
      `${name}: invocations failed`,
      lambdaMetric('Errors', 'Sum'),
      1,
      topic,
    );
    resources[`${name}ThrottlesAlarm`] = alarm(
      `${name}: invocations throttled`,
      lambdaMetric('Throttles', 'Sum'),
      1,
      topic,
    );
    if (consumer) {
      resources[`${name}OffsetLagAlarm`] = alarm(
        `${name}: its consumer group is more than ${settings.alarms.offsetLag} records behind the topic`,
        lambdaMetric('OffsetLag', 'Maximum'),
        settings.alarms.offsetLag,
        topic,
      );
    }
  }
  if (httpApiId) {
    resources.HttpApi5xxAlarm = alarm(
      'HTTP API: answers with status 5xx',
      {
        Namespace: 'AWS/ApiGateway',
        MetricName: '5xx',
        Statistic: 'Sum',
        Dimensions: [
          { Name: 'ApiId', Value: { Ref: httpApiId } },
          { Name: 'Stage', Value: '$default' },
        ],
      },
      1,
      topic,
    );
  }
  return resources;
}

/** Opens the Redis cluster's port to the functions' security groups (one ingress rule per group). */
export function redisIngressResources(
  settings: Pick<MskStageSettings, 'redisUrl' | 'redisSecurityGroupId' | 'securityGroupIds'>,
): Resources {
  if (!settings.redisUrl || !settings.redisSecurityGroupId) return {};
  const port = Number(new URL(settings.redisUrl).port || 6379);
  return Object.fromEntries(
    settings.securityGroupIds.map((group, i) => [
      `RedisIngress${i + 1}`,
      {
        Type: 'AWS::EC2::SecurityGroupIngress',
        Properties: {
          GroupId: settings.redisSecurityGroupId,
          IpProtocol: 'tcp',
          FromPort: port,
          ToPort: port,
          SourceSecurityGroupId: group,
          Description: 'Redis from the functions of this stack',
        },
      },
    ]),
  );
}

/** The bundle must target the Node.js the functions run on (`nodejs22.x` → esbuild `node22`). */
export function checkBuildTarget(runtime: string | undefined, esbuild: Record<string, unknown>): void {
  const version = /^nodejs(\d+)\.x$/.exec(runtime ?? '')?.[1];
  if (version && esbuild.target !== `node${version}`) {
    throw new MskStageError(
      `custom.esbuild.target is ${String(esbuild.target)} but the functions run on ${runtime}: set it to node${version}`,
    );
  }
}
