/**
 * `sls package --stage aws` works offline, without AWS credentials (none in the environment, an empty home
 * folder, and proxies that lead nowhere so any network call would fail), and the CloudFormation it compiles is what Lambda + MSK need: event source
 * mappings with the topic, unique consumer group IDs, batching and starting position; one least-privilege
 * role per function scoped to cluster, topic and group ARNs; the cluster's VPC; no secret anywhere.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- CloudFormation JSON is untyped; the assertions check its shape */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/fixtures';

jest.setTimeout(180000);
const run = promisify(execFile);

const CLUSTER = 'arn:aws:kafka:eu-west-1:123456789012:cluster/logs/0a1b2c3d-1111-2222-3333-444455556666-2';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_nginx-AbCdEf';
const BASE = [
  `--param=mskClusterArn=${CLUSTER}`,
  '--param=mskSubnetIds=subnet-0aa11,subnet-0bb22',
  '--param=mskSecurityGroupIds=sg-0cc33',
];

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };
type Template = { Resources: Record<string, Resource> };

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function slsPackage(
  args: string[],
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
  };
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [sls, 'package', '--stage', 'aws', '--region', 'eu-west-1', '--package', dir, ...args],
      { cwd: ROOT, env, timeout: 170000 },
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
    const packaged = await slsPackage(BASE);
    output = packaged.output;
    if (!packaged.ok) throw new Error(`sls package failed:\n${output}`);
    template = packaged.template!;
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
        batch: 100,
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

  it('lets ingest write the topic and the dead-letter topic, and read nothing', () => {
    const topic = (name: string) => CLUSTER.replace(':cluster/', ':topic/') + `/${name}`;
    expect(allowed(template, 'IngestIamRole', 'kafka-cluster:WriteData')).toEqual([
      topic('nginx_logs'),
      topic('nginx_logs_dlq'),
    ]);
    expect(allowed(template, 'IngestIamRole', 'kafka-cluster:WriteDataIdempotently')).toEqual([CLUSTER]);
    expect(allowed(template, 'IngestIamRole', 'kafka-cluster:ReadData')).toEqual([]);
    expect(allowed(template, 'IngestIamRole', 'kafka-cluster:AlterGroup')).toEqual([]);
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

  it("puts every function in the cluster's VPC, with the environment that discovers the brokers", () => {
    for (const [, fn] of ofType(template, 'AWS::Lambda::Function')) {
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
    const { ok, output, template } = await slsPackage([
      ...BASE,
      '--param=kafkaAuth=scram',
      `--param=scramSecretArn=${SECRET}`,
    ]);
    expect(output).not.toMatch(/Error/);
    expect(ok).toBe(true);
    const mappings = ofType(template!, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(3); // one per consumer group, so the loop below checks something
    for (const [, mapping] of mappings) {
      expect(mapping.Properties.SourceAccessConfigurations).toEqual([
        { Type: 'SASL_SCRAM_512_AUTH', URI: SECRET },
      ]);
    }
    for (const [roleId] of ofType(template!, 'AWS::IAM::Role')) {
      expect(allowed(template!, roleId, 'secretsmanager:GetSecretValue')).toEqual([SECRET]);
      expect(allowed(template!, roleId, 'kafka-cluster:Connect')).toEqual([]);
    }
    const env = template!.Resources.IngestLambdaFunction!.Properties.Environment.Variables;
    expect(env).toMatchObject({ KAFKA_AUTH: 'scram', KAFKA_SCRAM_SECRET_ARN: SECRET });
    expect(JSON.stringify(template)).not.toMatch(/password/i);
  });

  it('createCluster=true adds an MSK Serverless cluster and scopes everything to it', async () => {
    const { ok, output, template } = await slsPackage([
      '--param=createCluster=true',
      '--param=mskSubnetIds=subnet-0aa11,subnet-0bb22',
      '--param=mskSecurityGroupIds=sg-0cc33',
    ]);
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
    const { ok, output } = await slsPackage(['--param=mskSubnetIds=subnet-0aa11']);
    expect(ok).toBe(false);
    expect(output).toContain('mskClusterArn is not set');
    expect(output).toContain('--param="mskClusterArn=');
    expect(output).toContain('mskSecurityGroupIds must be');
    expect(output).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m); // a message, not a stack trace
    expect(output).not.toContain('Invalid configuration');
  });
});
