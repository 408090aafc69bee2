/**
 * The SNS comparison functions as a user runs them: `serverless offline start` starts the SNS emulator,
 * the publish endpoint turns nginx lines into SNS messages, every subscriber function receives every one,
 * and a message no subscriber can handle is retried and then recorded in the Kafka dead-letter topic.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import type { RunningOffline } from '../../lab/demo/offline';
import { DLQ_HEADER } from '../../shared/record/contract';
import { createSnsClient } from '../../shared/sns/client';
import { topicArn } from '../../shared/sns/config';
import { sampleLog } from '../helpers/fixtures';
import { createTopics, header, readTopic, uniqueName } from '../helpers/kafka';
import { startTestOffline } from '../helpers/offline';
import { freePort } from '../helpers/ports';
import '../helpers/sns';
import { waitFor } from '../helpers/wait';

jest.setTimeout(180000);

const name = uniqueName('e2e-sns');
const kafkaTopic = `${name}-kafka`;
const kafkaDeadLetters = `${name}-kafka-dlq`;
const subscribers = ['snsAnalytics', 'snsAlerts', 'snsArchive'];
let offline: RunningOffline;
let snsEndpoint: string;

beforeAll(async () => {
  await createTopics([
    { topic: kafkaTopic, partitions: 3 },
    { topic: kafkaDeadLetters, partitions: 1 },
  ]);
  snsEndpoint = `http://127.0.0.1:${await freePort()}`;
  offline = await startTestOffline({
    topic: kafkaTopic,
    deadLetterTopic: kafkaDeadLetters,
    env: {
      KAFKA_GROUP_PREFIX: `${name}-`,
      SNS_ENDPOINT: snsEndpoint,
      SNS_TOPIC: name,
      SNS_DLQ_TOPIC: `${name}-dlq`,
      SNS_OFFLINE_RETRY_DELAY_MS: '50',
    },
  });
});

afterAll(async () => {
  const code = await offline?.stop();
  expect(code).toBe(0);
});

const post = (body: string, contentType = 'text/plain') =>
  fetch(`${offline.url}/sns/publish`, { method: 'POST', headers: { 'content-type': contentType }, body });

function deliveries(source: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of offline.lines) {
    if (!line.includes('"sns-subscriber.delivery"') || !line.includes(source)) continue;
    const fn = subscribers.find((s) => line.includes(`-${s}"`));
    if (fn) counts.set(fn, (counts.get(fn) ?? 0) + 1);
  }
  return counts;
}

it('delivers every published record to every subscriber function', async () => {
  const response = await post(`${sampleLog().join('\n')}\n`);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { source: string; accepted: number };
  expect(body.accepted).toBe(4);
  await waitFor(
    () => subscribers.every((s) => deliveries(body.source).get(s) === 4),
    'each of the 3 subscribers to handle the 4 records',
    60000,
  );
});

it('retries a message a subscriber cannot handle, then records it in the dead-letter topic', async () => {
  const sns = createSnsClient({ endpoint: snsEndpoint, region: 'us-east-1' });
  await sns.send(new PublishCommand({ TopicArn: topicArn(name), Message: 'this is not a record' }));
  sns.destroy();
  const letters = await readTopic(kafkaDeadLetters, 3, 60000);
  expect(letters.map((l) => l.value!.toString())).toEqual(Array(3).fill('this is not a record'));
  for (const letter of letters) {
    expect(header(letter, DLQ_HEADER.reason)).toBe('value is not JSON');
    expect(header(letter, DLQ_HEADER.stage)).toBe('handler');
  }
  for (const fn of subscribers) {
    expect(offline.lines.filter((l) => l.includes(`${fn} failed attempt`))).toHaveLength(3);
  }
});

it('records unparseable lines in the dead-letter topic and answers with counts', async () => {
  const response = await post('not an nginx line\n');
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ accepted: 0, rejected: 1 });
  const letters = await readTopic(kafkaDeadLetters, 4, 60000);
  const parse = letters.find((l) => header(l, DLQ_HEADER.stage) === 'parse');
  expect(parse?.value?.toString()).toBe('not an nginx line');
  expect(header(parse!, DLQ_HEADER.reason)).toMatch(/not nginx combined format/);
});

it.each([
  ['an unsupported content type', 415, () => post('x', 'application/xml')],
  ['malformed JSON', 400, () => post('{"lines":', 'application/json')],
  ['an empty body', 400, () => post('', 'text/plain')],
])('answers %s with %i and a message', async (_what, status, send) => {
  const response = await send();
  expect(response.status).toBe(status);
  const body = (await response.json()) as { error?: string };
  expect(body.error).toEqual(expect.any(String));
  expect(JSON.stringify(body)).not.toMatch(/\.ts:\d+/);
});
