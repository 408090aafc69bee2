/**
 * SNS publishing counted against the local SNS emulator: every line is one message, the answer accounts
 * for each, a request over the line limit publishes nothing, and when SNS stops answering part-way the
 * answer names exactly the lines to send again — resending those gives every line once.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SnsEmulator } from '../../local/sns/emulator';
import { createSnsClient } from '../../shared/sns/client';
import { topicArn } from '../../shared/sns/config';
import { MAX_SNS_LINES, PublishIncomplete, publishLines } from '../../shared/sns/publish';
import { decodeRecordValue } from '../../shared/record/contract';
import { uniqueName } from '../helpers/kafka';
import { markOf, realLog } from '../helpers/producing';
import { collector, emulator, runInitScript, type Collector } from '../helpers/sns';
import { waitFor } from '../helpers/wait';

jest.setTimeout(120000);

const origin = { source: 'test:sns-counting', logFormat: 'combined' };
let sns: SnsEmulator;
let client: SNSClient;
let subscriber: Collector;
let arns: { topicArn: string; deadLetterTopicArn: string };

async function topicWith(endpoint: string): Promise<typeof arns> {
  const name = uniqueName('sns-count');
  await runInitScript({
    SNS_ENDPOINT: endpoint,
    SNS_TOPIC: name,
    SNS_DLQ_TOPIC: `${name}-dlq`,
    SNS_HTTP_SUBSCRIBERS: subscriber.url,
  });
  return { topicArn: topicArn(name), deadLetterTopicArn: topicArn(`${name}-dlq`) };
}

beforeAll(async () => {
  subscriber = await collector();
  sns = await emulator();
  client = createSnsClient({ endpoint: sns.endpoint, region: 'us-east-1' });
  arns = await topicWith(sns.endpoint);
});

afterAll(async () => {
  client?.destroy();
  await sns?.close();
  await subscriber?.close();
});

const marksReceived = (tag: string) => {
  const counts = new Map<number, number>();
  for (const n of subscriber.received) {
    const mark = markOf(decodeRecordValue(n.Message).raw, tag);
    if (mark !== undefined) counts.set(mark, (counts.get(mark) ?? 0) + 1);
  }
  return counts;
};

it('publishes one message per line and counts them in the answer', async () => {
  const result = await publishLines(client, arns, realLog(200, 'count'), origin);
  expect(result).toMatchObject({ accepted: 200, rejected: 0, published: 200 });
  await waitFor(() => marksReceived('count').size >= 200, 'the 200 messages');
  expect([...marksReceived('count').values()].every((n) => n === 1)).toBe(true);
});

it(`refuses more than ${MAX_SNS_LINES} lines with 413 before publishing anything`, async () => {
  await expect(publishLines(client, arns, realLog(MAX_SNS_LINES + 1, 'over'), origin)).rejects.toMatchObject({
    statusCode: 413,
  });
  expect(marksReceived('over').size).toBe(0);
});

it('names exactly the lines SNS did not confirm when it stops answering, and resending them gives each line once', async () => {
  // An emulator of its own that closes part-way through the request.
  const own = await emulator();
  const ownClient = createSnsClient({ endpoint: own.endpoint, region: 'us-east-1' });
  const ownArns = await topicWith(own.endpoint);
  const lines = realLog(400, 'cut');
  // The outcome is taken as a value at once: the publish may fail while the emulator is still closing, and a
  // rejection nobody handles yet would fail the test on its own.
  const outcome = publishLines(ownClient, ownArns, lines, origin, 10000).then(
    () => undefined,
    (err: unknown) => err,
  );
  await waitFor(() => marksReceived('cut').size >= 50, 'the first messages', 30000, 10);
  await own.close();
  const failure = await outcome;
  ownClient.destroy();
  expect(failure).toBeInstanceOf(PublishIncomplete);
  const incomplete = failure as PublishIncomplete;
  const unpublished = new Set(incomplete.unpublishedLines);
  const unsure = new Set(incomplete.unknownLines);
  expect(incomplete.published + unpublished.size + unsure.size).toBe(400);
  // What the client does with the answer: send the unpublished lines again (here to the running emulator),
  // and again with what that answer names, until none is left.
  let pending = lines.filter((_, i) => unpublished.has(i + 1));
  for (let round = 0; pending.length > 0 && round < 5; round++) {
    try {
      expect((await publishLines(client, arns, pending, origin)).published).toBe(pending.length);
      pending = [];
    } catch (err) {
      if (!(err instanceof PublishIncomplete)) throw err;
      const left = new Set(err.unpublishedLines);
      for (const n of err.unknownLines) unsure.add(lines.indexOf(pending[n - 1]!) + 1);
      pending = pending.filter((_, i) => left.has(i + 1));
    }
  }
  expect(pending).toHaveLength(0);
  // Lines with an unknown outcome were not resent: each was published once or not at all.
  await waitFor(
    () => [...Array(400).keys()].every((m) => unsure.has(m + 1) || marksReceived('cut').has(m)),
    'every line of the cut request that was not unknown',
  );
  const counts = marksReceived('cut');
  console.log(
    `SNS cut part-way: ${incomplete.published} confirmed, ${unpublished.size} named to resend; ` +
      `${unsure.size} unknown; after resending, ${counts.size} distinct lines received, ` +
      `${[...counts.values()].reduce((a, b) => a + b, 0)} messages`,
  );
  expect([...counts.values()].every((n) => n === 1)).toBe(true);
});
