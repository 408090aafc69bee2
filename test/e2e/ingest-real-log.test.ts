/**
 * The README's own example, as a new user runs it: a real access log of 20,000 lines (about 4.9 MB) POSTed
 * in one request with curl to the ingest endpoint of `serverless offline`, and every line in the topic once.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunningOffline } from '../../lab/demo/offline';
import { brokers, createTopics, uniqueName } from '../helpers/kafka';
import { startTestOffline } from '../helpers/offline';
import { marksIn, realLog, topicRecords } from '../helpers/producing';

jest.setTimeout(240000);

const run = promisify(execFile);
const topic = uniqueName('readme');
const deadLetterTopic = `${topic}-dlq`;
const dir = mkdtempSync(join(tmpdir(), 'readme-log-'));
const log = join(dir, 'access.log');
let offline: RunningOffline;

beforeAll(async () => {
  writeFileSync(log, `${realLog(20000, 'readme').join('\n')}\n`);
  await createTopics([
    { topic, partitions: 3 },
    { topic: deadLetterTopic, partitions: 1 },
  ]);
  offline = await startTestOffline({ topic, deadLetterTopic });
});

afterAll(async () => {
  await offline?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** curl as the README writes it; prints the status on a last line of its own. */
async function curl(...args: string[]): Promise<{ status: number; body: Record<string, unknown> }> {
  const { stdout } = await run('curl', ['-sS', '-w', '\n%{http_code}', ...args, `${offline.url}/ingest`], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const lines = stdout.trimEnd().split('\n');
  return { status: Number(lines.pop()), body: JSON.parse(lines.join('\n')) };
}

it("takes the README's curl example with a 20,000-line real log in one request, every line once", async () => {
  const answer = await curl('-X', 'POST', '-H', 'content-type: text/plain', '--data-binary', `@${log}`);
  expect(answer).toMatchObject({ status: 200, body: { accepted: 20000, rejected: 0 } });
  const seen = marksIn(await topicRecords(brokers(), topic), 'readme');
  expect(seen.size).toBe(20000);
  expect([...seen.values()].every((n) => n === 1)).toBe(true);
});

it('answers a log sent without a text/plain Content-Type with a 4xx that says to send text/plain', async () => {
  // curl's --data-binary without -H sends application/x-www-form-urlencoded.
  const answer = await curl('-X', 'POST', '--data-binary', `@${log}`);
  expect(answer.status).toBe(415);
  expect(String(answer.body.error)).toMatch(/send nginx access-log lines as text\/plain/);
});
