/**
 * `sls package --stage aws` works offline, without AWS credentials (none in the environment, an empty home
 * folder, and proxies that lead nowhere so any network call would fail), and the CloudFormation it compiles
 * is what Lambda + MSK need, on every variant (IAM, SCRAM, a created cluster): event source mappings with the
 * topic, unique consumer group IDs, batching, starting position and the local event source's error handling;
 * one least-privilege role per function that can write exactly what the function's code produces to; VPC
 * and environment only where a function needs them; alarms; no secret and no local address anywhere.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- CloudFormation JSON is untyped; the assertions check its shape */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { producedBy } from '../helpers/code-access';
import { ROOT } from '../helpers/fixtures';

// A loaded 2-core machine takes minutes per `sls package`; every run here is one.
jest.setTimeout(900000);
const run = promisify(execFile);

const CLUSTER = 'arn:aws:kafka:eu-west-1:123456789012:cluster/logs/0a1b2c3d-1111-2222-3333-444455556666-2';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_nginx-AbCdEf';
const KMS_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const REDIS = 'rediss://nks-redis.abc123.euw1.cache.amazonaws.com:6379';
const READ_TOKEN_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:nks/read-token-AbCdEf';
const NETWORK = [
  '--param=mskSubnetIds=subnet-0aa11,subnet-0bb22',
  '--param=mskSecurityGroupIds=sg-0cc33',
  `--param=readTokenSecretArn=${READ_TOKEN_SECRET}`,
];
const BASE = [`--param=mskClusterArn=${CLUSTER}`, ...NETWORK, `--param=redisUrl=${REDIS}`];
const SCRAM = [
  ...BASE,
  '--param=kafkaAuth=scram',
  `--param=scramSecretArn=${SECRET}`,
  `--param=scramKmsKeyArn=${KMS_KEY}`,
];
const CREATED = [
  '--param=createCluster=true',
  ...NETWORK,
  `--param=redisUrl=${REDIS}`,
  // with the variant's other knobs: CORS origins, throttling, the Redis security group
  '--param=corsOrigins=https://ops.example.com,https://status.example.com',
  '--param=throttleRate=5',
  '--param=throttleBurst=10',
  '--param=redisSecurityGroupId=sg-0dd44',
];

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };
type Template = { Resources: Record<string, Resource> };

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A developer's shell pointing at local services: none of it may reach an AWS stage. */
const LOCAL_SHELL = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  REDIS_URL: 'redis://127.0.0.1:6379',
  SNS_ENDPOINT: 'http://127.0.0.1:4002',
};

/** One `sls package` per variant (from a local developer's shell), shared by the blocks that look at it. */
const packages = new Map<string, ReturnType<typeof slsPackage>>();
function packaged(args: string[]): ReturnType<typeof slsPackage> {
  const key = args.join(' ');
  if (!packages.has(key)) packages.set(key, slsPackage(args, LOCAL_SHELL));
  return packages.get(key)!;
}

async function slsPackage(
  args: string[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<{ ok: boolean; output: string; template?: Template; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'aws-stage-'));
  dirs.push(dir);
  const sls = require.resolve('serverless/bin/serverless.js', { paths: [ROOT] });
  const home = mkdtempSync(join(tmpdir(), 'aws-stage-home-'));
  dirs.push(home);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home, // no ~/.aws: no credentials or profile to find
    HTTP_PROXY: 'http://127.0.0.1:9',
    HTTPS_PROXY: 'http://127.0.0.1:9',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    ...extraEnv,
  };
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [sls, 'package', '--stage', 'aws', '--region', 'eu-west-1', '--package', dir, ...args],
      { cwd: ROOT, env, timeout: 600000 },
    );
    const template = JSON.parse(
      readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as Template;
    return { ok: true, output: stdout + stderr, template, dir };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}`, dir };
  }
}

const ofType = (t: Template, type: string) =>
  Object.entries(t.Resources).filter(([, r]) => r.Type === type) as Array<[string, Resource]>;

const statementsOf = (t: Template, roleId: string): Array<Record<string, any>> =>
  t.Resources[roleId]!.Properties.Policies[0].PolicyDocument.Statement;

const allowed = (t: Template, roleId: string, action: string): unknown[] =>
  statementsOf(t, roleId)
    .filter((s) => (s.Action as string[]).includes(action))
    .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));

describe('stage aws with IAM auth on an existing cluster', () => {
  let template: Template;
  let output: string;
  beforeAll(async () => {
    const result = await packaged(BASE);
    output = result.output;
    if (!result.ok) throw new Error(`sls package failed:\n${output}`);
    template = result.template!;
  });

  it('maps each consumer group to one event source mapping with the topic, batching and position', () => {
    const mappings = ofType(template, 'AWS::Lambda::EventSourceMapping').map(([, r]) => r.Properties);
    expect(
      mappings
        .map((p) => ({
          fn: p.FunctionName['Fn::GetAtt'][0],
          group: p.AmazonManagedKafkaEventSourceConfig.ConsumerGroupId,
          source: p.EventSourceArn,
          topics: p.Topics,
          batch: p.BatchSize,
          window: p.MaximumBatchingWindowInSeconds,
          start: p.StartingPosition,
          auth: p.SourceAccessConfigurations,
        }))
        .sort((a, b) => a.fn.localeCompare(b.fn)),
    ).toEqual(
      [
        ['AlertsLambdaFunction', 'alerts'],
        ['AnalyticsLambdaFunction', 'analytics'],
        ['SummarizerALambdaFunction', 'summarizers'],
      ].map(([fn, group]) => ({
        fn,
        group: `nginx-kafka-serverless-aws-${group}`,
        source: CLUSTER,
        topics: ['nginx_logs'],
        batch: 1000,
        window: 1,
        start: 'TRIM_HORIZON',
        auth: undefined,
      })),
    );
    const groups = mappings.map((p) => p.AmazonManagedKafkaEventSourceConfig.ConsumerGroupId);
    expect(new Set(groups).size).toBe(groups.length);
  });

  it('deploys one function for the shared group and says so', () => {
    expect(template.Resources.SummarizerBLambdaFunction).toBeUndefined();
    expect(template.Resources.SummarizerALambdaFunction).toBeDefined();
    expect(output).toMatch(/summarizerB is not deployed to stage aws: it shares consumer group/);
  });

  it('gives every function its own role and drops the shared one', () => {
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
    for (const [id, fn] of ofType(template, 'AWS::Lambda::Function')) {
      const roleId = id.replace(/LambdaFunction$/, 'IamRole');
      expect(fn.Properties.Role).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
      expect(template.Resources[roleId]!.Type).toBe('AWS::IAM::Role');
    }
    for (const [, mapping] of ofType(template, 'AWS::Lambda::EventSourceMapping')) {
      const fnId = mapping.Properties.FunctionName['Fn::GetAtt'][0] as string;
      expect(mapping.DependsOn).toEqual([fnId.replace(/LambdaFunction$/, 'IamRole')]);
    }
  });

  it('lets a consumer read only its topic and its own group, and write only the dead-letter topic', () => {
    const topic = (name: string) => CLUSTER.replace(':cluster/', ':topic/') + `/${name}`;
    const group = (name: string) => CLUSTER.replace(':cluster/', ':group/') + `/${name}`;
    expect(allowed(template, 'AnalyticsIamRole', 'kafka-cluster:Connect')).toEqual([CLUSTER]);
    expect(allowed(template, 'AnalyticsIamRole', 'kafka-cluster:ReadData')).toEqual([topic('nginx_logs')]);
    expect(allowed(template, 'AnalyticsIamRole', 'kafka-cluster:AlterGroup')).toEqual([
      group('nginx-kafka-serverless-aws-analytics'),
    ]);
    expect(allowed(template, 'AnalyticsIamRole', 'kafka-cluster:DescribeGroup')).toEqual([
      group('nginx-kafka-serverless-aws-analytics'),
    ]);
    expect(allowed(template, 'AnalyticsIamRole', 'kafka-cluster:WriteData')).toEqual([
      topic('nginx_logs_dlq'),
    ]);
    expect(allowed(template, 'AnalyticsIamRole', 'kafka:GetBootstrapBrokers')).toEqual([CLUSTER]);
    expect(allowed(template, 'AnalyticsIamRole', 'ec2:CreateNetworkInterface')).toEqual(['*']);
    expect(allowed(template, 'AlertsIamRole', 'kafka-cluster:AlterGroup')).toEqual([
      group('nginx-kafka-serverless-aws-alerts'),
    ]);
  });

  it('lets ingest write the topic and the dead-letter topic, and read back only what settling a commit needs', () => {
    const topic = (name: string) => CLUSTER.replace(':cluster/', ':topic/') + `/${name}`;
    expect(allowed(template, 'IngestIamRole', 'kafka-cluster:WriteData')).toEqual([
      topic('nginx_logs'),
      topic('nginx_logs_dlq'),
    ]);
    expect(allowed(template, 'IngestIamRole', 'kafka-cluster:WriteDataIdempotently')).toEqual([CLUSTER]);
    expect(allowed(template, 'IngestIamRole', 'kafka-cluster:ReadData')).toEqual([
      topic('nginx_logs'),
      topic('nginx_logs_dlq'),
    ]);
    expect(allowed(template, 'IngestIamRole', 'kafka-cluster:AlterGroup')).toEqual([
      CLUSTER.replace(':cluster/', ':group/') + '/*-nginx-kafka-serverless-aws-ingest-*-settle',
    ]);
    expect(allowed(template, 'IngestIamRole', 'secretsmanager:GetSecretValue')).toEqual([]);
  });

  it('scopes logs to the function and never grants a wildcard on Kafka', () => {
    for (const [roleId] of ofType(template, 'AWS::IAM::Role')) {
      for (const s of statementsOf(template, roleId)) {
        const actions = s.Action as string[];
        if (actions.some((a) => a.startsWith('kafka'))) expect(s.Resource).not.toEqual('*');
        expect(actions.every((a) => !a.endsWith('*'))).toBe(true);
      }
    }
    expect(JSON.stringify(statementsOf(template, 'IngestIamRole')[0])).toContain(
      'log-group:/aws/lambda/nginx-kafka-serverless-aws-ingest:*',
    );
  });

  it("puts the Kafka functions in the cluster's VPC, with the environment that discovers the brokers", () => {
    const kafkaFunctions = ['Ingest', 'Analytics', 'Alerts', 'SummarizerA', 'SnsDeadLetters'];
    for (const name of kafkaFunctions) {
      const fn = template.Resources[`${name}LambdaFunction`]!;
      expect(fn.Properties.VpcConfig).toEqual({
        SubnetIds: ['subnet-0aa11', 'subnet-0bb22'],
        SecurityGroupIds: ['sg-0cc33'],
      });
      const env = fn.Properties.Environment.Variables;
      expect(env).toMatchObject({ KAFKA_AUTH: 'iam', MSK_CLUSTER_ARN: CLUSTER, KAFKA_TOPIC: 'nginx_logs' });
      expect(env.KAFKA_BROKERS).toBeUndefined();
    }
  });
});

describe('stage aws variants', () => {
  it('SCRAM: the mappings name the secret, roles may read only it, and no password is anywhere', async () => {
    const { ok, output, template } = await packaged(SCRAM);
    expect(output).not.toMatch(/Error/);
    expect(ok).toBe(true);
    const mappings = ofType(template!, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(3); // one per consumer group, so the loop below checks something
    for (const [, mapping] of mappings) {
      expect(mapping.Properties.SourceAccessConfigurations).toEqual([
        { Type: 'SASL_SCRAM_512_AUTH', URI: SECRET },
      ]);
    }
    for (const roleId of [
      'IngestIamRole',
      'AnalyticsIamRole',
      'AlertsIamRole',
      'SummarizerAIamRole',
      'SnsDeadLettersIamRole',
    ]) {
      expect(allowed(template!, roleId, 'secretsmanager:GetSecretValue')).toEqual([SECRET]);
      // the customer managed key of the secret, and only through Secrets Manager
      expect(allowed(template!, roleId, 'kms:Decrypt')).toEqual([KMS_KEY]);
    }
    for (const roleId of ['StatsIamRole', 'DashboardIamRole', 'SnsPublishIamRole', 'SnsAnalyticsIamRole']) {
      expect(allowed(template!, roleId, 'secretsmanager:GetSecretValue')).toEqual([]); // no Kafka, no secret
    }
    for (const [roleId] of ofType(template!, 'AWS::IAM::Role')) {
      expect(allowed(template!, roleId, 'kafka-cluster:Connect')).toEqual([]);
    }
    const env = template!.Resources.IngestLambdaFunction!.Properties.Environment.Variables;
    expect(env).toMatchObject({ KAFKA_AUTH: 'scram', KAFKA_SCRAM_SECRET_ARN: SECRET });
    expect(JSON.stringify(template)).not.toMatch(/password/i);
  });

  it('createCluster=true adds an MSK Serverless cluster and scopes everything to it', async () => {
    const { ok, output, template } = await packaged(CREATED);
    expect(output).not.toMatch(/Error/);
    expect(ok).toBe(true);
    const cluster = template!.Resources.MskServerlessCluster!;
    expect(cluster.Type).toBe('AWS::MSK::ServerlessCluster');
    expect(cluster.Properties.ClientAuthentication).toEqual({ Sasl: { Iam: { Enabled: true } } });
    expect(cluster.Properties.VpcConfigs).toEqual([
      { SubnetIds: ['subnet-0aa11', 'subnet-0bb22'], SecurityGroups: ['sg-0cc33'] },
    ]);
    const mappings = ofType(template!, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(3);
    for (const [, mapping] of mappings) {
      expect(mapping.Properties.EventSourceArn).toEqual({ Ref: 'MskServerlessCluster' });
    }
    expect(allowed(template!, 'AnalyticsIamRole', 'kafka-cluster:Connect')).toEqual([
      { Ref: 'MskServerlessCluster' },
    ]);
    const [readTopic] = allowed(template!, 'AnalyticsIamRole', 'kafka-cluster:ReadData') as [
      Record<string, any>,
    ];
    expect(JSON.stringify(readTopic)).toContain(':topic/');
    expect(JSON.stringify(readTopic)).toContain('/nginx_logs');
  });

  it('without the cluster parameters, packaging fails and says what to set', async () => {
    const { ok, output } = await slsPackage([
      '--param=mskSubnetIds=subnet-0aa11',
      `--param=readTokenSecretArn=${READ_TOKEN_SECRET}`,
    ]);
    expect(ok).toBe(false);
    expect(output).toContain('mskClusterArn is not set');
    expect(output).toContain('--param="mskClusterArn=');
    expect(output).toContain('mskSecurityGroupIds must be');
    // Redis too: analytics, alerts and stats need a TLS endpoint
    expect(output).toContain('redisUrl is not set');
    expect(output).toContain('--param="redisUrl=rediss://');
    expect(output).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m); // a message, not a stack trace
    expect(output).not.toContain('Invalid configuration');
  });

  it('without the read-token secret, packaging fails and says how to make one', async () => {
    const { ok, output } = await slsPackage(BASE.filter((a) => !a.startsWith('--param=readTokenSecretArn')));
    expect(ok).toBe(false);
    expect(output).toContain('readTokenSecretArn is not set');
    expect(output).toContain('aws secretsmanager create-secret');
  });

  it('a cluster in another region than the stack is refused, naming both', async () => {
    const { ok, output } = await slsPackage([
      ...BASE.filter((a) => !a.startsWith('--param=mskClusterArn')),
      `--param=mskClusterArn=${CLUSTER.replace('eu-west-1', 'us-east-1')}`,
    ]);
    expect(ok).toBe(false);
    expect(output).toContain('mskClusterArn is in region us-east-1 but the stack deploys to eu-west-1');
  });

  it("the shell's local KAFKA_BROKERS and REDIS_URL do not reach the aws stage", async () => {
    const { ok, output, template } = await packaged(BASE); // packaged with LOCAL_SHELL's variables set
    if (!ok) throw new Error(output);
    const text = JSON.stringify(template);
    expect(text).not.toContain('127.0.0.1');
    expect(template!.Resources.AnalyticsLambdaFunction!.Properties.Environment.Variables.REDIS_URL).toBe(
      REDIS,
    );
  });
});

/** The topic name at the end of a topic ARN, as a string or the Fn::Join of a created cluster. */
function topicName(resource: unknown): string {
  if (typeof resource === 'string') return resource.slice(resource.lastIndexOf('/') + 1);
  const parts = (resource as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return String(parts[parts.length - 1]).replace(/^\//, '');
}

const functionsOf = (t: Template) =>
  ofType(t, 'AWS::Lambda::Function').map(([id, fn]) => ({
    id,
    roleId: id.replace(/LambdaFunction$/, 'IamRole'),
    handlerFile: String(fn.Properties.Handler).replace(/\.handler$/, '.ts'),
    env: (fn.Properties.Environment?.Variables ?? {}) as Record<string, any>,
    fn,
  }));

const mappingsOf = (t: Template, fnId: string) =>
  ofType(t, 'AWS::Lambda::EventSourceMapping')
    .map(([, m]) => m.Properties)
    .filter((p) => p.FunctionName['Fn::GetAtt'][0] === fnId);

describe.each([
  ['IAM auth on an existing cluster', BASE],
  ['SCRAM auth on an existing cluster', SCRAM],
  ['a cluster the stack creates', CREATED],
])('stage aws, %s', (_name, args) => {
  let template: Template;
  beforeAll(async () => {
    const result = await packaged(args);
    if (!result.ok) throw new Error(`sls package failed:\n${result.output}`);
    template = result.template!;
  });

  it("every topic a function's code produces to is writable by that function's role, and nothing else is", () => {
    // What the code produces to is read from the code (test/helpers/code-access.ts), not from custom.access.
    const functions = functionsOf(template);
    expect(functions.length).toBeGreaterThanOrEqual(10);
    for (const { id, roleId, handlerFile, env } of functions) {
      const produced = producedBy(handlerFile).kafka.map((name) => {
        expect([id, name, env[name]]).toEqual([id, name, expect.any(String)]); // the code reads it: it must be set
        return env[name] as string;
      });
      const destinations = mappingsOf(template, id)
        .map((m) => m.DestinationConfig?.OnFailure?.Destination as string | undefined)
        .filter((d): d is string => !!d?.startsWith('kafka://'))
        .map((d) => d.slice('kafka://'.length));
      const writable = (
        args === SCRAM ? [] : allowed(template, roleId, 'kafka-cluster:WriteData').map(topicName)
      ).sort();
      const expected = args === SCRAM ? [] : [...new Set([...produced, ...destinations])].sort();
      // with SCRAM, Kafka ACLs (not IAM) decide; the role then grants no kafka-cluster action at all
      expect([id, writable]).toEqual([id, expected]);
    }
  });

  it("every SNS topic a function's code publishes to, and every onError target, is publishable by its role", () => {
    for (const { id, roleId, handlerFile, env, fn } of functionsOf(template)) {
      const published = producedBy(handlerFile).sns.map((name) => env[name]);
      const onError = fn.Properties.DeadLetterConfig?.TargetArn;
      const expected = [...published, ...(onError ? [onError] : [])];
      const publishable = allowed(template, roleId, 'sns:Publish');
      expect([id, publishable]).toEqual([id, expect.arrayContaining(expected)]);
      expect([id, publishable.length]).toEqual([id, new Set(expected.map((e) => JSON.stringify(e))).size]);
    }
    // the SNS subscribers do have an onError target, so the loop above checked one
    expect(template.Resources.SnsAnalyticsLambdaFunction!.Properties.DeadLetterConfig.TargetArn).toEqual({
      Ref: 'SNSTopicNginxlogsdlq',
    });
  });

  it('names no placeholder account: SNS topics the stack creates are referenced, not spelled out', () => {
    expect(JSON.stringify(template)).not.toContain('000000000000');
    expect(
      template.Resources.SnsPublishLambdaFunction!.Properties.Environment.Variables.SNS_TOPIC_ARN,
    ).toEqual({
      Ref: 'SNSTopicNginxlogs',
    });
  });

  it('compiles the error handling the local event source applies into every mapping, in provisioned mode', () => {
    const mappings = ofType(template, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(3);
    for (const [, m] of mappings) {
      // serverless.yml custom.kafkaErrorHandling, applied locally by serverless-offline-kafka
      expect(m.Properties).toMatchObject({
        MaximumRetryAttempts: 10,
        MaximumRecordAgeInSeconds: -1,
        BisectBatchOnFunctionError: true,
        DestinationConfig: { OnFailure: { Destination: 'kafka://nginx_logs_dlq' } },
        // AWS offers these settings for Kafka event sources only with provisioned pollers
        ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 3 },
      });
    }
  });

  it('gives a function the VPC, network-interface rights and environment only of what it uses', () => {
    for (const { id, roleId, env, fn } of functionsOf(template)) {
      const usesKafka = 'KAFKA_AUTH' in env;
      const usesRedis = 'REDIS_URL' in env;
      expect([id, fn.Properties.VpcConfig !== undefined]).toEqual([id, usesKafka || usesRedis]);
      expect([id, allowed(template, roleId, 'ec2:CreateNetworkInterface').length > 0]).toEqual([
        id,
        usesKafka || usesRedis,
      ]);
      expect([id, allowed(template, roleId, 'kafka:GetBootstrapBrokers').length > 0]).toEqual([
        id,
        usesKafka,
      ]);
      if (usesRedis) expect(env.REDIS_URL).toBe(REDIS);
      for (const value of Object.values(env))
        expect(JSON.stringify(value)).not.toMatch(/127\.0\.0\.1|localhost/);
    }
    expect(template.Resources.DashboardLambdaFunction!.Properties.VpcConfig).toBeUndefined();
    expect(template.Resources.StatsLambdaFunction!.Properties.VpcConfig).toBeDefined(); // Redis
    expect(
      template.Resources.StatsLambdaFunction!.Properties.Environment.Variables.KAFKA_AUTH,
    ).toBeUndefined();
  });

  it('grants no wildcard resource except the network-interface actions EC2 cannot scope', () => {
    for (const [roleId] of ofType(template, 'AWS::IAM::Role')) {
      for (const statement of statementsOf(template, roleId)) {
        const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
        if (resources.includes('*'))
          expect([roleId, statement.Action]).toEqual([
            roleId,
            expect.arrayContaining(['ec2:CreateNetworkInterface']),
          ]);
      }
    }
  });

  it('puts an authorizer on every route: IAM on writes, the read-token Lambda authorizer on reads', () => {
    const routes = ofType(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual([
      'GET /dashboard',
      'GET /stats',
      'POST /ingest',
      'POST /sns/publish',
    ]);
    for (const route of routes) {
      if (route.RouteKey.startsWith('POST ')) {
        expect([route.RouteKey, route.AuthorizationType]).toEqual([route.RouteKey, 'AWS_IAM']);
      } else {
        expect([route.RouteKey, route.AuthorizationType, route.AuthorizerId]).toEqual([
          route.RouteKey,
          'CUSTOM',
          { Ref: 'HttpApiAuthorizerReadToken' },
        ]);
      }
    }
    const authorizer = template.Resources.HttpApiAuthorizerReadToken!.Properties;
    expect(authorizer).toMatchObject({ AuthorizerType: 'REQUEST', AuthorizerResultTtlInSeconds: 0 });
    expect(authorizer.IdentitySource).toBeUndefined(); // the function reads the header or the cookie itself
    // the authorizer reads its token from the secret, and may read nothing else
    const env = template.Resources.ReadAuthorizerLambdaFunction!.Properties.Environment.Variables;
    expect(env.READ_TOKEN_SECRET_ARN).toBe(READ_TOKEN_SECRET);
    expect(env.READ_TOKEN).toBeUndefined();
    expect(allowed(template, 'ReadAuthorizerIamRole', 'secretsmanager:GetSecretValue')).toEqual([
      READ_TOKEN_SECRET,
    ]);
    expect(template.Resources.ReadAuthorizerLambdaFunction!.Properties.VpcConfig).toBeUndefined();
    // a request with no token passes the authorizer only to be answered 401 by the route, which needs HTTP_AUTH=on
    for (const name of ['StatsLambdaFunction', 'DashboardLambdaFunction']) {
      expect([name, template.Resources[name]!.Properties.Environment.Variables.HTTP_AUTH]).toEqual([
        name,
        'on',
      ]);
    }
  });

  it('throttles the stage and allows exactly the CORS origins passed (none by default), without credentials', () => {
    const stage = template.Resources.HttpApiStage!.Properties;
    const cors = template.Resources.HttpApi!.Properties.CorsConfiguration;
    if (args === CREATED) {
      expect(stage.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 });
      expect(cors.AllowOrigins).toEqual(['https://ops.example.com', 'https://status.example.com']);
      // API Gateway allows no credentials unless AllowCredentials is true; the framework may leave it out.
      expect(cors.AllowCredentials ?? false).toBe(false);
    } else {
      expect(stage.DefaultRouteSettings).toMatchObject({
        ThrottlingRateLimit: 50,
        ThrottlingBurstLimit: 100,
      });
      expect(cors).toBeUndefined();
    }
  });

  it("opens the Redis port to the functions' security group only when its group is given", () => {
    const ingress = ofType(template, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties);
    expect(ingress).toEqual(
      args === CREATED
        ? [
            expect.objectContaining({
              GroupId: 'sg-0dd44',
              SourceSecurityGroupId: 'sg-0cc33',
              FromPort: 6379,
              ToPort: 6379,
            }),
          ]
        : [],
    );
  });

  it('alarms on OffsetLag, Errors and Throttles of each consumer, and on 5xx answers of the HTTP API', () => {
    const alarms = ofType(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    for (const { id } of functionsOf(template).filter((f) => mappingsOf(template, f.id).length > 0)) {
      for (const metric of ['OffsetLag', 'Errors', 'Throttles']) {
        expect([
          id,
          metric,
          alarms.some((a) => a.MetricName === metric && a.Dimensions[0].Value.Ref === id),
        ]).toEqual([id, metric, true]);
      }
    }
    expect(alarms.some((a) => a.Namespace === 'AWS/ApiGateway' && a.MetricName === '5xx')).toBe(true);
  });
});
