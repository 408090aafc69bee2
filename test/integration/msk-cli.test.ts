/**
 * `npm run msk -- topics|lag` against the real local broker (KAFKA_BROKERS, no cluster ARN), and the CLI's
 * messages when it cannot do what was asked. `info` needs AWS; its formatting is unit-tested.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/fixtures';
import { brokers, createTopics, testKafka, uniqueName } from '../helpers/kafka';

jest.setTimeout(60000);
const run = promisify(execFile);
const CLI = join(ROOT, 'dist', 'tools', 'msk', 'msk-cli.js');

async function msk(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, KAFKA_BROKERS: brokers().join(','), ...env },
      timeout: 50000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

it('lists topics with their partitions', async () => {
  const topic = uniqueName('msk-topics');
  await createTopics([{ topic, partitions: 3 }]);
  const { code, stdout } = await msk(['topics']);
  expect(code).toBe(0);
  expect(stdout).toMatch(new RegExp(`\\| ${topic} +\\| 3 +\\| 1 +\\|`));
});

it('creates the project topics with --create', async () => {
  const topic = uniqueName('msk-create');
  const { code, stdout } = await msk(['topics', '--create'], {
    KAFKA_TOPIC: topic,
    KAFKA_DLQ_TOPIC: `${topic}-dlq`,
  });
  expect(code).toBe(0);
  expect(stdout).toContain(`${topic}: created (3 partitions)`);
  expect(stdout).toContain(`${topic}-dlq: created (1 partitions)`);
});

it('shows the lag of a group', async () => {
  const topic = uniqueName('msk-lag');
  const group = uniqueName('msk-lag-group');
  await createTopics([{ topic, partitions: 1 }]);
  const producer = testKafka().producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
  await producer.disconnect();
  const admin = testKafka().admin();
  await admin.connect();
  await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '1' }] });
  await admin.disconnect();

  const { code, stdout } = await msk(['lag', group]);
  expect(code).toBe(0);
  expect(stdout).toMatch(new RegExp(`\\| ${group} +\\| ${topic} +\\| 0 +\\| 1 +\\| 3 +\\| 2 +\\|`));
  expect(stdout).toContain('total lag: 2 records');
});

it('says what to do when it cannot', async () => {
  const usage = await msk([]);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain('usage: npm run msk -- info | topics [--create] | lag');
  const noArn = await msk(['info']);
  expect(noArn.code).toBe(2);
  expect(noArn.stderr).toContain('info needs MSK_CLUSTER_ARN=');
  const down = await msk(['topics'], { KAFKA_BROKERS: '127.0.0.1:1' });
  expect(down.code).toBe(2);
  expect(down.stderr).toMatch(/Kafka does not answer at 127\.0\.0\.1:1 .*MSK_ENDPOINT=public/);
  expect(down.stderr).not.toMatch(/^\s+at /m);
});

it('the local path of shared/kafka loads no AWS SDK module', async () => {
  const script = `
    const { connectionOptions } = require('./dist/shared/kafka/msk-auth');
    const { loadConfig } = require('./dist/shared/config');
    require('./dist/shared/kafka/producer');
    connectionOptions(loadConfig({})).then((o) => {
      const aws = Object.keys(require.cache).filter((k) => k.includes('@aws-sdk') || k.includes('aws-msk-iam'));
      console.log(JSON.stringify({ brokers: o.brokers, aws: aws.length }));
    });`;
  const { stdout } = await run(process.execPath, ['-e', script], { cwd: ROOT });
  expect(JSON.parse(stdout)).toEqual({ brokers: ['127.0.0.1:9092'], aws: 0 });
});
