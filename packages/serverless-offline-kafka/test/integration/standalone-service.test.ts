/**
 * The package stands alone: `npm pack` builds its tarball, which is installed into a minimal service in a
 * temporary folder (a serverless.yml with serverless-offline and this plugin only, one `msk` function, one
 * `kafka` function with its own group ID, and a handler file that records what it received). `serverless
 * offline` runs there against the real broker; records produced to the topic must reach both handlers, as
 * Lambda-shaped batches, each record exactly once per function. A third function, which fails every batch,
 * shows the plugin's own settings at work: its SQS on-failure destination is written to the service's
 * `deadLetterTopic`, with the service's `failureHeaders` and its account and region in the failure document.
 *
 * The tarball and its dependencies (kafkajs, @types/aws-lambda) are installed by npm, from its cache when it
 * has them. The peer dependencies, serverless (osls 3) and serverless-offline 13, are not downloaded again:
 * the service's node_modules links to the copies installed for this repository, to keep the test fast.
 * Nothing else of the repository is visible to the service.
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { MSKEvent, MSKRecord, SelfManagedKafkaEvent } from 'aws-lambda';
import { brokers, createTopics, header, readTopic, testKafka, uniqueName } from '../helpers/kafka';
import { MSK_EVENT_SCHEMA, SELF_MANAGED_EVENT_SCHEMA, validate } from '../helpers/kafka-event-schema';
import { freePort, startOffline, type RunningOffline } from '../helpers/offline';
import { settledRecordCount, waitForGroupDrained } from '../helpers/quiescence';
import { waitFor } from '../helpers/wait';
import type { OnFailureRecord } from '../../src/lambda-events/on-failure-record';
import { FAILURE_HEADER } from '../../src/lambda-events/on-failure-record';

// npm pack (a TypeScript build), npm install and serverless offline's start-up on a loaded machine.
jest.setTimeout(300000);

const run = promisify(execFile);
const PACKAGE = join(__dirname, '..', '..');
/** Where a dev dependency or peer of this package is installed: node_modules/<name> found upward, as Node looks. */
function installedDir(name: string): string {
  for (let dir = PACKAGE; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`${name} is not installed above ${PACKAGE}: run npm install`);
  }
}
const RECORDS = 40;
const BATCH_SIZE = 7;
const CLUSTER_ARN =
  'arn:aws:kafka:eu-west-1:123456789012:cluster/standalone/11111111-2222-3333-4444-555555555555-1';

const id = uniqueName('standalone');
const topic = `${id}-logs`;
const service = id;
const stage = 'dev';
/** The msk function keeps Lambda's default group, `<service>-<stage>-<function>`; the kafka function has its own. */
const mskGroup = `${service}-${stage}-mskConsumer`;
const kafkaGroup = `${id}-own-group`;
const deadLetterTopic = `${id}-dead`;
const ACCOUNT = '123456789012';

let dir: string;
let offline: RunningOffline | undefined;

function serviceYaml(): string {
  return `service: ${service}
frameworkVersion: '3'

plugins:
  - serverless-offline-kafka
  - serverless-offline

provider:
  name: aws
  runtime: nodejs20.x
  stage: ${stage}
  region: eu-west-1

custom:
  kafkaEventSource:
    brokers: ${brokers().join(',')}
    deadLetterTopic: ${deadLetterTopic}
    accountId: '${ACCOUNT}'
    failureHeaders:
      failed-at: '{topic}-{partition}@{offset}'
      reason: '{condition}: {error}'
    functions:
      failing:
        maximumRetryAttempts: 0
        destinations:
          onFailure: arn:aws:sqs:eu-west-1:${ACCOUNT}:dead-letters

functions:
  mskConsumer:
    handler: handler.record
    environment:
      RECEIVED: ${join('received', 'msk.jsonl')}
    events:
      - msk:
          arn: ${CLUSTER_ARN}
          topic: ${topic}
          batchSize: ${BATCH_SIZE}
          startingPosition: TRIM_HORIZON
  kafkaConsumer:
    handler: handler.record
    environment:
      RECEIVED: ${join('received', 'kafka.jsonl')}
    events:
      - kafka:
          accessConfigurations:
            vpcSubnet: [subnet-0abc]
            vpcSecurityGroup: [sg-0abc]
          bootstrapServers: [kafka.example.com:9092]
          topic: ${topic}
          consumerGroupId: ${kafkaGroup}
          batchSize: ${BATCH_SIZE}
          startingPosition: TRIM_HORIZON
  failing:
    handler: handler.fail
    events:
      - msk:
          arn: ${CLUSTER_ARN}
          topic: ${topic}
          consumerGroupId: ${id}-failing
          batchSize: ${BATCH_SIZE}
`;
}

/** The service's one handler: appends every event it gets, one JSON line each, to its RECEIVED file. */
const HANDLER = `const { appendFileSync } = require('node:fs');
const { join } = require('node:path');
exports.record = async (event) => {
  appendFileSync(join(__dirname, process.env.RECEIVED), JSON.stringify(event) + '\\n');
};
exports.fail = async () => {
  throw new Error('refused on purpose');
};
`;

function received(name: string): Array<MSKEvent | SelfManagedKafkaEvent> {
  const file = join(dir, 'received', `${name}.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as MSKEvent | SelfManagedKafkaEvent);
}

const recordsOf = (events: Array<MSKEvent | SelfManagedKafkaEvent>): MSKRecord[] =>
  events.flatMap((e) => Object.values(e.records).flat());

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'serverless-offline-kafka-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: PACKAGE });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string }>;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: service, private: true }, null, 2));
  writeFileSync(join(dir, 'serverless.yml'), serviceYaml());
  writeFileSync(join(dir, 'handler.js'), HANDLER);
  mkdirSync(join(dir, 'received'));
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--legacy-peer-deps',
      '--no-package-lock',
      join(dir, packed!.filename),
    ],
    { cwd: dir },
  );
  for (const peer of ['serverless', 'serverless-offline']) {
    symlinkSync(installedDir(peer), join(dir, 'node_modules', peer), 'dir');
  }
  await createTopics([
    { topic, partitions: 3 },
    { topic: deadLetterTopic, partitions: 1 },
  ]);
  offline = startOffline({ cwd: dir, httpPort: await freePort(), lambdaPort: await freePort() });
  for (const fn of ['mskConsumer', 'kafkaConsumer', 'failing']) {
    await offline.waitFor(
      (line) => line.includes(`Kafka [${fn}] consuming ${topic}`),
      180000,
      `the ${fn} event source to start`,
    );
  }
});

afterAll(async () => {
  await offline?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('installs from its tarball with only its own files and dependencies', () => {
  const installed = join(dir, 'node_modules', 'serverless-offline-kafka');
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  expect(Object.keys(manifest.dependencies).sort()).toEqual(['@types/aws-lambda', 'kafkajs']);
  for (const file of ['README.md', 'CHANGELOG.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) {
    expect(existsSync(join(installed, file))).toBe(true);
  }
  expect(existsSync(join(installed, 'src'))).toBe(false);
  expect(existsSync(join(dir, 'node_modules', 'kafkajs', 'package.json'))).toBe(true);
});

const values = Array.from({ length: RECORDS }, (_, i) => JSON.stringify({ n: i }));

/** TypeScript in the service, using each entry point as the README shows; a wrong type must fail to compile. */
const TYPED_USE = `import { Kafka } from 'kafkajs';
import { KafkaEventSource, parseKafkaEventDefinition, type SourceLog } from 'serverless-offline-kafka/event-source';
import { kafkaEventDefinitions } from 'serverless-offline-kafka/event-definition';
import { consoleLog, offlineHooks } from 'serverless-offline-kafka/plugin-support';
import Plugin = require('serverless-offline-kafka');

const log: SourceLog = consoleLog;
const definition = parseKafkaEventDefinition('fn', 'msk', { topic: 't', batchSize: 10 }, 'group');
const source = new KafkaEventSource(definition, new Kafka({ brokers: ['b:1'] }), ['b:1'], async () => undefined, log);
const flows: Array<{ partition: number; bufferedRecords: number }> = source.flow();
const count: number = kafkaEventDefinitions('s', 'dev', {}).length;
const hooks: Record<string, () => Promise<void>> = offlineHooks(async () => undefined, async () => undefined);
const service = { service: 's', provider: {}, getAllFunctions: () => [], getFunction: () => ({}) };
const plugin: { hooks: Record<string, () => Promise<void>> } = new Plugin({ service }, {});
export const used = [flows, count, hooks, plugin];
`;

async function typeCheck(source: string): Promise<{ ok: boolean; output: string }> {
  writeFileSync(join(dir, 'typed-use.ts'), source);
  const tsc = require.resolve('typescript/bin/tsc', { paths: [PACKAGE] });
  const options = ['--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16'];
  // Node's own types from this package's dev install: the service installs no @types/node.
  const nodeTypes = ['--typeRoots', dirname(installedDir('@types/node')), '--types', 'node'];
  try {
    await run(process.execPath, [tsc, ...options, '--target', 'es2022', ...nodeTypes, 'typed-use.ts'], {
      cwd: dir,
    });
    return { ok: true, output: '' };
  } catch (err) {
    return { ok: false, output: String((err as { stdout?: string }).stdout) };
  }
}

it("compiles against the tarball's type declarations, through each entry point", async () => {
  expect(await typeCheck(TYPED_USE)).toEqual({ ok: true, output: '' });
  const wrong = await typeCheck(
    TYPED_USE.replace("{ topic: 't', batchSize: 10 }, 'group')", "{ topic: 't' }, 7)"),
  );
  expect(wrong.ok).toBe(false);
  expect(wrong.output).toContain("Argument of type 'number' is not assignable to parameter of type 'string'");
});

it('delivers every record to the msk and the kafka function, as Lambda-shaped batches', async () => {
  const producer = testKafka().producer();
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: values.map((value, i) => ({ key: `client-${i % 5}`, value, headers: { n: String(i) } })),
    });
  } finally {
    await producer.disconnect();
  }
  for (const [name, group] of [
    ['msk', mskGroup],
    ['kafka', kafkaGroup],
  ] as const) {
    await waitFor(() => recordsOf(received(name)).length >= RECORDS, `${RECORDS} records in ${name}`, 60000);
    await waitForGroupDrained(group, topic, () => recordsOf(received(name)).length);
  }

  const msk = received('msk');
  const kafka = received('kafka');
  for (const [events, schema] of [
    [msk, MSK_EVENT_SCHEMA],
    [kafka, SELF_MANAGED_EVENT_SCHEMA],
  ] as const) {
    expect(events.length).toBeGreaterThanOrEqual(Math.ceil(RECORDS / BATCH_SIZE));
    for (const event of events) {
      expect(validate(schema, event)).toEqual([]);
      expect(event.bootstrapServers).toBe(brokers().join(','));
      const batches = Object.entries(event.records);
      expect(batches).toHaveLength(1);
      const [key, records] = batches[0]!;
      expect(key).toBe(`${topic}-${records[0]!.partition}`);
      expect(records.length).toBeLessThanOrEqual(BATCH_SIZE);
      expect(records.every((r) => r.topic === topic && `${topic}-${r.partition}` === key)).toBe(true);
    }
    const delivered = recordsOf(events);
    expect(delivered.map((r) => Buffer.from(r.value, 'base64').toString()).sort()).toEqual(
      [...values].sort(),
    );
    expect(new Set(delivered.map((r) => `${r.partition}@${r.offset}`)).size).toBe(RECORDS);
  }
  expect(msk.every((e) => e.eventSource === 'aws:kafka' && e.eventSourceArn === CLUSTER_ARN)).toBe(true);
  expect(kafka.every((e) => e.eventSource === 'SelfManagedKafka' && !('eventSourceArn' in e))).toBe(true);
  expect(offline!.lines.some((l) => l.includes(`Kafka [mskConsumer] joined group ${mskGroup}`))).toBe(true);
  expect(offline!.lines.some((l) => l.includes(`Kafka [kafkaConsumer] joined group ${kafkaGroup}`))).toBe(
    true,
  );
});

it("writes what a function gave up on to the service's deadLetterTopic, with its failureHeaders, account and region", async () => {
  // Where each record is on the source topic, read from the topic itself.
  const source = await readTopic(topic, RECORDS);
  const positions = new Map(source.map((m) => [m.value!.toString(), `${topic}-${m.partition}@${m.offset}`]));
  expect(positions.size).toBe(RECORDS);
  await waitForGroupDrained(`${id}-failing`, topic, () => 0);
  expect(await settledRecordCount(deadLetterTopic)).toBe(RECORDS);

  const dead = await readTopic(deadLetterTopic, RECORDS);
  expect(dead.map((m) => m.value!.toString()).sort()).toEqual([...values].sort());
  for (const m of dead) {
    expect(header(m, 'failed-at')).toBe(positions.get(m.value!.toString()));
    expect(header(m, 'reason')).toBe('RetryAttemptsExhausted: refused on purpose');
    const failure = JSON.parse(header(m, FAILURE_HEADER)!) as OnFailureRecord;
    expect(failure.requestContext.functionArn).toBe(
      `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${service}-${stage}-failing`,
    );
    expect(failure.requestContext.approximateInvokeCount).toBe(1);
  }
});
