/**
 * The local SNS → Lambda path holds a bounded number of notifications while its functions are slower than
 * the publishers, and what it cannot take is what SNS would redeliver, never lost: the SNS event source
 * (local/sns/sns-event-source.ts) against the local SNS emulator in a process of its own, with a
 * function of the test's that is slower than publishing. Counted by message id: every message published is
 * handled, how many times, and the most the source held and invoked at once.
 */
import { CreateTopicCommand, PublishCommand, SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SNSEvent } from 'aws-lambda';
import type { SnsEmulator } from '../../local/sns/emulator';
import type { SnsEventDefinition } from '../../local/sns/sns-event-definition';
import { SnsEventSource, type SnsEventSourceOptions } from '../../local/sns/sns-event-source';
import { createSnsClient } from '../../shared/sns/client';
import { topicArn } from '../../shared/sns/config';
import { uniqueName } from '../helpers/kafka';
import { collector, emulator, type Collector } from '../helpers/sns';
import { waitFor } from '../helpers/wait';

jest.setTimeout(120000);

const quiet = { notice: () => undefined, warning: () => undefined, error: () => undefined };

interface Running {
  source: SnsEventSource;
  topicArn: string;
  /** Message ids as the function received them, in order. */
  handled: string[];
  stop(): Promise<void>;
}

/** A source for one function whose every invocation waits for `slow` first. */
async function slowFunction(
  client: SNSClient,
  slow: () => Promise<unknown>,
  bounds: Pick<SnsEventSourceOptions, 'maxQueuedDeliveries' | 'concurrency'>,
): Promise<Running> {
  const name = uniqueName('sns-bound');
  const definition: SnsEventDefinition = {
    functionKey: 'slow',
    topicArn: topicArn(name),
    topicName: name,
    maximumRetryAttempts: 2,
  };
  const handled: string[] = [];
  const source = new SnsEventSource(
    [definition],
    client,
    async (_key, event: SNSEvent) => {
      await slow();
      handled.push(event.Records[0]!.Sns.MessageId);
    },
    quiet,
    { retryDelayMs: 100, callbackHost: '127.0.0.1', callbackPort: 0, ...bounds },
  );
  await source.start();
  return { source, topicArn: definition.topicArn, handled, stop: () => source.stop() };
}

/** Publishes `count` messages at once; resolves with their ids once SNS has answered every Publish. */
async function publishAll(client: SNSClient, arn: string, count: number): Promise<string[]> {
  const answers = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      client.send(new PublishCommand({ TopicArn: arn, Message: `message ${i}` })),
    ),
  );
  return answers.map((a) => a.MessageId!);
}

function timesHandled(handled: string[]): Map<string, number> {
  const times = new Map<string, number>();
  for (const id of handled) times.set(id, (times.get(id) ?? 0) + 1);
  return times;
}

describe('the SNS event source', () => {
  let sns: SnsEmulator;
  let client: SNSClient;
  let running: Running | undefined;

  beforeAll(async () => {
    sns = await emulator();
    client = createSnsClient({ endpoint: sns.endpoint, region: 'us-east-1' });
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  afterAll(async () => {
    client?.destroy();
    await sns?.close();
  });

  it('below its bound takes every notification at once and handles each message once, invoking at most `concurrency` at a time', async () => {
    const COUNT = 80;
    // The function is held back until every Publish was answered.
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    running = await slowFunction(client, () => gate, { maxQueuedDeliveries: 100, concurrency: 4 });
    const ids = await publishAll(client, running.topicArn, COUNT);
    // SNS answered every Publish while the function had handled none: Publish does not wait for it.
    await waitFor(() => running!.source.flow()[0]!.held === COUNT, 'the source to take every notification');
    expect(running.handled).toEqual([]);
    expect(running.source.flow()[0]).toMatchObject({ held: COUNT, invoking: 4, throttled: 0 });
    open();

    await waitFor(() => running!.handled.length >= COUNT, 'every message handled');
    await waitFor(() => running!.source.flow()[0]!.held === 0, 'the source to hold nothing');
    const times = timesHandled(running.handled);
    expect([...times.keys()].sort()).toEqual([...ids].sort());
    expect([...times.values()].filter((n) => n !== 1)).toEqual([]);
    expect(running.source.flow()[0]).toMatchObject({ throttled: 0, peakInvoking: 4, peakHeld: COUNT });
  });

  it('at its bound answers 429 as a throttled Lambda does, SNS delivers those again, and every message is handled once', async () => {
    const COUNT = 60;
    const BOUND = 10;
    running = await slowFunction(client, () => new Promise((r) => setTimeout(r, 40)), {
      maxQueuedDeliveries: BOUND,
      concurrency: 2,
    });
    const ids = await publishAll(client, running.topicArn, COUNT);

    await waitFor(() => new Set(running!.handled).size >= COUNT, 'every message handled', 60000);
    await waitFor(() => running!.source.flow()[0]!.held === 0, 'the source to hold nothing');
    const times = timesHandled(running.handled);
    const flow = running.source.flow()[0]!;
    console.log(
      `sns bound ${BOUND}: ${COUNT} published, ${flow.throttled} deliveries answered 429 and redelivered, ` +
        `${running.handled.length} invocations for ${times.size} messages, most held ${flow.peakHeld}`,
    );
    // The bound was reached (positive control) and never passed.
    expect(flow.throttled).toBeGreaterThan(0);
    expect(flow.peakHeld).toBe(BOUND);
    expect(flow.peakInvoking).toBe(2);
    // Nothing lost, nothing doubled: a refused notification was not taken, so it is handled once, later.
    expect([...times.keys()].sort()).toEqual([...ids].sort());
    expect([...times.values()].filter((n) => n !== 1)).toEqual([]);
  });
});

describe('the SNS emulator', () => {
  let sns: SnsEmulator;
  let client: SNSClient;
  let subscriber: Collector;

  afterAll(async () => {
    client?.destroy();
    await sns?.close();
    await subscriber?.close();
  });

  it('refuses Publish with ThrottledException once its deliveries under way reach their bound, and delivers every message it confirmed', async () => {
    const BOUND = 5;
    sns = await emulator({ SNS_EMULATOR_MAX_PENDING: String(BOUND) });
    client = createSnsClient({ endpoint: sns.endpoint, region: 'us-east-1' });
    // A subscriber that is down (503) until told otherwise: every delivery stays under way, retrying.
    subscriber = await collector({ status: 503 });
    const name = uniqueName('sns-pending');
    const arn = topicArn(name);
    await client.send(new CreateTopicCommand({ Name: name }));
    await client.send(new SubscribeCommand({ TopicArn: arn, Protocol: 'http', Endpoint: subscriber.url }));

    const outcomes: Array<{ id?: string; error?: string }> = [];
    for (let i = 0; i < BOUND + 3; i++) {
      try {
        const answer = await client.send(new PublishCommand({ TopicArn: arn, Message: `pending ${i}` }));
        outcomes.push({ id: answer.MessageId });
      } catch (err) {
        outcomes.push({ error: (err as Error).name });
      }
    }
    const confirmed = outcomes.filter((o) => o.id).map((o) => o.id!);
    expect(outcomes.map((o) => o.error ?? 'ok')).toEqual([
      ...Array<string>(BOUND).fill('ok'),
      ...Array<string>(3).fill('ThrottledException'),
    ]);
    // The subscriber was tried (and answered 503) before it comes back.
    expect(subscriber.refused()).toBeGreaterThan(0);

    subscriber.answer(200);
    await waitFor(
      () => confirmed.every((id) => subscriber.received.some((n) => n.MessageId === id)),
      'every confirmed message delivered after the subscriber came back',
      30000,
    );
    const delivered = subscriber.received.map((n) => n.MessageId);
    expect([...new Set(delivered)].sort()).toEqual([...confirmed].sort());
    // With the deliveries done, Publish is accepted again.
    const again = await client.send(new PublishCommand({ TopicArn: arn, Message: 'after' }));
    expect(again.MessageId).toBeDefined();
  });
});
