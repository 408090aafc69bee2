/**
 * `sls invoke local` works for every function with the sample events in events/, as the README shows.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/fixtures';
import { createTopics, readTopic, uniqueName } from '../helpers/kafka';
import { settledRecordCount } from '../helpers/quiescence';

jest.setTimeout(120000);
const run = promisify(execFile);
const topic = uniqueName('invoke');

beforeAll(() =>
  createTopics([
    { topic, partitions: 3 },
    { topic: `${topic}-dlq`, partitions: 1 },
  ]),
);

async function invokeLocal(fn: string, event: string): Promise<string> {
  const sls = require.resolve('serverless/bin/serverless.js', { paths: [ROOT] });
  const { stdout } = await run(
    process.execPath,
    [sls, 'invoke', 'local', '-f', fn, '--path', `events/${event}`],
    {
      cwd: ROOT,
      env: { ...process.env, KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: `${topic}-dlq`, LOG_LEVEL: 'warn' },
      timeout: 110000,
    },
  );
  return stdout;
}

/** The handler's result, which invoke local prints last as pretty JSON. */
function result(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.slice(stdout.search(/^\{$/m)));
}

it.each(['analytics', 'alerts', 'summarizerA', 'summarizerB'])(
  '%s handles events/msk-nginx-logs.json',
  async (fn) => {
    expect(result(await invokeLocal(fn, 'msk-nginx-logs.json'))).toMatchObject({ records: 4, invalid: 0 });
  },
);

it('analytics handles the self-managed Kafka sample', async () => {
  expect(result(await invokeLocal('analytics', 'self-managed-kafka-nginx-logs.json'))).toMatchObject({
    records: 4,
  });
});

it('ingest handles the HTTP and direct-invocation samples and produces to the topic', async () => {
  const http = result(await invokeLocal('ingest', 'ingest-http-text.json'));
  expect(http).toMatchObject({ statusCode: 200 });
  expect(JSON.parse(http.body as string)).toMatchObject({ accepted: 4, rejected: 0 });
  expect(result(await invokeLocal('ingest', 'ingest-http-json.json'))).toMatchObject({ statusCode: 200 });
  expect(result(await invokeLocal('ingest', 'ingest-invoke.json'))).toMatchObject({
    accepted: 4,
    rejected: 0,
  });
  await readTopic(topic, 12);
  expect(await settledRecordCount(topic)).toBe(12);
});
