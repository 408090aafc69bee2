/**
 * The whole pipeline as a user runs it: `serverless offline start` with the local Kafka event source plugin,
 * lines POSTed to the ingest endpoint, and every consumer function invoked by the real broker.
 */
import { DemoTally, fanoutVerdict, loadBalancingVerdict } from '../../lab/demo/tally';
import type { RunningOffline } from '../../lab/demo/offline';
import { DLQ_HEADER } from '../../shared/record/contract';
import { sampleLog } from '../helpers/fixtures';
import { createTopics, header, readTopic, uniqueName } from '../helpers/kafka';
import { startTestOffline } from '../helpers/offline';
import { waitFor } from '../helpers/wait';

jest.setTimeout(180000);

const topic = uniqueName('e2e');
const deadLetterTopic = `${topic}-dlq`;
let offline: RunningOffline;

beforeAll(async () => {
  await createTopics([
    { topic, partitions: 3 },
    { topic: deadLetterTopic, partitions: 1 },
  ]);
  offline = await startTestOffline({ topic, deadLetterTopic });
});

afterAll(async () => {
  const code = await offline?.stop();
  expect(offline.lines.join('\n')).not.toMatch(/Error: /);
  expect(code).toBe(0);
});

const post = (body: string, contentType = 'text/plain') =>
  fetch(`${offline.url}/ingest`, { method: 'POST', headers: { 'content-type': contentType }, body });

it('fans every record out to each group and splits them inside the shared group', async () => {
  const bad = 'GET /no-address-here';
  const response = await post(`${sampleLog().join('\n')}\n${bad}\n`);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { source: string; accepted: number; rejected: number };
  expect(body).toMatchObject({ accepted: 4, rejected: 1 });

  const tally = new DemoTally(body.source);
  let read = 0;
  await waitFor(
    () => {
      for (; read < offline.lines.length; read++) tally.observe(offline.lines[read]!);
      return tally.complete(4);
    },
    'every group to handle the 4 records',
    60000,
  );

  expect(fanoutVerdict(tally, 4).ok).toBe(true);
  const balanced = loadBalancingVerdict(tally, 4);
  expect(balanced.ok).toBe(true);
  const members = [...tally.groups().get(`${topic}-summarizers`)!];
  expect(members.map((m) => m.functionKey).sort()).toEqual(['summarizerA', 'summarizerB']);
  expect(members.every((m) => m.records > 0)).toBe(true);

  const [letter] = await readTopic(deadLetterTopic, 1);
  expect(letter!.value!.toString()).toBe(bad);
  expect(header(letter!, DLQ_HEADER.reason)).toMatch(/not nginx combined format/);
});

it.each([
  ['an unsupported content type', () => post('x', 'application/xml'), 415],
  ['malformed JSON', () => post('{"lines":', 'application/json'), 400],
  ['an empty body', () => post('', 'text/plain'), 400],
  ['a body over 6 MB', () => post('x'.repeat(6 * 1024 * 1024 + 10)), 413],
])('answers %s with %i and a message', async (_what, send, status) => {
  const response = await send();
  expect(response.status).toBe(status);
  const body = (await response.json()) as { error?: string };
  expect(body.error).toEqual(expect.any(String));
  expect(JSON.stringify(body)).not.toMatch(/\.ts:\d+/);
});
