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
  /** Topics each function produces to (what it reads comes from its msk events). */
  writes: Record<string, string[]>;
}

export class MskStageError extends Error {}

export const CREATED_CLUSTER_ID = 'MskServerlessCluster';
const CLUSTER_ARN = /^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster\/[^/]+\/[^/]+$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:AmazonMSK_[^:]+$/;

const list = (value: unknown): string[] =>
  (Array.isArray(value) ? value.map(String) : String(value ?? '').split(','))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/** Reads and checks `custom.msk`; every error says which param or variable to set. */
export function readMskStageSettings(raw: Record<string, unknown>, stage: string): MskStageSettings {
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
  if (problems.length > 0) {
    throw new MskStageError(`stage ${stage} deploys to Amazon MSK, but:\n  - ${problems.join('\n  - ')}`);
  }
  const writes: Record<string, string[]> = {};
  for (const [fn, topics] of Object.entries((raw.writes ?? {}) as Record<string, unknown>)) {
    writes[fn] = list(topics);
  }
  return {
    clusterArn: createCluster ? { Ref: CREATED_CLUSTER_ID } : arn,
    subnetIds,
    securityGroupIds,
    auth: auth as 'iam' | 'scram',
    scramSecretArn,
    createCluster,
    writes,
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

/** An MSK resource ARN (topic or group) on the same cluster as `clusterArn`, as a string or a CF expression. */
export function clusterResourceArn(clusterArn: CfValue, kind: 'topic' | 'group', name: string): CfValue {
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

export interface FunctionAccess {
  functionKey: string;
  /** The deployed function name (for its log group). */
  functionName: string;
  reads: Array<{ topic: string; group?: string }>;
  writes: string[];
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
export function functionStatements(settings: MskStageSettings, access: FunctionAccess): Statement[] {
  const cluster = settings.clusterArn;
  const logGroup = {
    'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${access.functionName}:*`,
  };
  const statements: Statement[] = [
    { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: logGroup },
    // Network interfaces in the cluster's VPC: for the function itself (it produces to MSK) and for its MSK
    // event source mapping. EC2 does not scope these actions to resources.
    { Effect: 'Allow', Action: ENI_ACTIONS, Resource: '*' },
    {
      Effect: 'Allow',
      Action: ['kafka:DescribeCluster', 'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'],
      Resource: cluster,
    },
  ];
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
        Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
        Resource: [...new Set(access.writes)].map((t) => clusterResourceArn(cluster, 'topic', t)),
      });
    }
  } else if (settings.scramSecretArn) {
    statements.push(
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: settings.scramSecretArn },
      {
        // MSK SCRAM secrets are encrypted with a customer managed key; decrypting is allowed only through
        // Secrets Manager.
        Effect: 'Allow',
        Action: ['kms:Decrypt'],
        Resource: '*',
        Condition: {
          StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'secretsmanager.${AWS::Region}.amazonaws.com' } },
        },
      },
    );
  }
  return statements;
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
          PolicyName: `${functionKey}-kafka`,
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
