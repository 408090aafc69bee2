/**
 * The emulator delivers each message with fetch, and fetch adds an "abort" listener to the signal it is
 * given that it removes only when the request is garbage-collected. Deliveries must not share one signal,
 * or a long run (the comparison's 100,000 records) piles thousands of listeners on it and floods the
 * process with MaxListenersExceededWarning.
 */
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSnsClient } from '../../shared/sns/client';
import { publishAll } from '../../shared/sns/publish';
import { collector, emulator } from '../helpers/sns';
import { waitFor } from '../helpers/wait';

jest.setTimeout(60000);

const dir = mkdtempSync(join(tmpdir(), 'sns-listeners-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('holds at most a couple of abort listeners on any one signal over 400 deliveries', async () => {
  const report = join(dir, 'most');
  const sns = await emulator({
    NODE_OPTIONS: `--require ${join(__dirname, '..', 'fixtures', 'abort-listeners.cjs')}`,
    ABORT_LISTENERS_REPORT: report,
  });
  const subscriber = await collector();
  const client = createSnsClient({ endpoint: sns.endpoint, region: 'us-east-1' });
  try {
    const topicArn = (await client.send(new CreateTopicCommand({ Name: 'listeners' }))).TopicArn!;
    await client.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: subscriber.url }),
    );
    const count = 400;
    await publishAll(
      client,
      Array.from({ length: count }, (_, i) => ({ topicArn, message: { body: `m${i}`, attributes: {} } })),
      4,
    );
    // The control: every delivery's fetch ran.
    await waitFor(() => subscriber.received.length >= count, `${count} deliveries`);
    expect(subscriber.received).toHaveLength(count);
  } finally {
    client.destroy();
    await sns.close();
    await subscriber.close();
  }
  // Each delivery listens on a signal of its own (once for fetch, once while waiting to retry).
  expect(Number(readFileSync(report, 'utf8'))).toBeLessThanOrEqual(2);
});
