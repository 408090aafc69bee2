/**
 * The local stand-in for SNS → Lambda. It creates each function's topic on the SNS endpoint, subscribes an
 * HTTP endpoint of its own per function event, and turns every notification into the `aws:sns` event the
 * function gets on AWS. As on AWS the invocation is asynchronous: the notification is acknowledged at once,
 * a failed invocation is retried `maximumRetryAttempts` times, and what still fails goes to the function's
 * `onError` topic with Lambda's RequestID/ErrorCode/ErrorMessage attributes, or, without one, is reported
 * as an error line. A subscriber added later receives only what is published after it subscribed.
 *
 * What it holds is bounded per function: at most `maxQueuedDeliveries` notifications taken and not yet done
 * (waiting, invoking, or waiting to retry), of which at most `concurrency` invoke at once (each concurrent
 * invocation is a worker thread of serverless-offline). A notification beyond that is answered 429, as
 * Lambda answers a throttled invocation, and SNS delivers it again on its retry policy (the emulator does,
 * see emulator.ts): Publish is never held up, and nothing it confirmed is dropped.
 */
import { CreateTopicCommand, PublishCommand, SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SNSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { topicName } from '../../shared/sns/config';
import { ATTRIBUTE } from '../../shared/sns/message';
import { NotificationError, parseNotification, snsEvent } from './lambda-events/sns-event';
import type { SnsEventDefinition } from './sns-event-definition';
import type { SourceLog } from 'serverless-offline-kafka/plugin-support';

export type Invoke = (functionKey: string, event: SNSEvent) => Promise<unknown>;

export type { SourceLog } from 'serverless-offline-kafka/plugin-support';

export interface SnsEventSourceOptions {
  /** Wait before retry n is n × this (Lambda waits about 1 and 2 minutes; locally shorter). */
  retryDelayMs: number;
  /** The host SNS can reach this process at (127.0.0.1 unless SNS runs elsewhere, e.g. in Docker). */
  callbackHost: string;
  callbackPort: number;
  /** Notifications one function may hold (waiting, invoking, waiting to retry); 100 by default. */
  maxQueuedDeliveries?: number;
  /** Invocations of one function at once; 4 by default. */
  concurrency?: number;
}

export const DEFAULT_MAX_QUEUED_DELIVERIES = 100;
export const DEFAULT_CONCURRENCY = 4;

/** What one function's deliveries hold right now, and the most they held. */
export interface DeliveryFlow {
  functionKey: string;
  held: number;
  invoking: number;
  peakHeld: number;
  peakInvoking: number;
  /** Notifications answered 429 because the function held its maximum. */
  throttled: number;
}

/** One function's deliveries: how many it holds, and the invocations waiting for a free slot. */
class FunctionQueue {
  held = 0;
  invoking = 0;
  peakHeld = 0;
  peakInvoking = 0;
  throttled = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly functionKey: string,
    readonly maxHeld: number,
    readonly concurrency: number,
  ) {}

  /** Takes a notification if there is room. */
  take(): boolean {
    if (this.held >= this.maxHeld) {
      this.throttled++;
      return false;
    }
    this.held++;
    this.peakHeld = Math.max(this.peakHeld, this.held);
    return true;
  }

  done(): void {
    this.held--;
  }

  /** Runs one invocation when fewer than `concurrency` run; the waiters are at most the notifications held. */
  async invoke<T>(run: () => Promise<T>): Promise<T> {
    if (this.invoking >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.invoking++;
    this.peakInvoking = Math.max(this.peakInvoking, this.invoking);
    try {
      return await run();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.invoking--;
    }
  }

  flow(): DeliveryFlow {
    const { functionKey, held, invoking, peakHeld, peakInvoking, throttled } = this;
    return { functionKey, held, invoking, peakHeld, peakInvoking, throttled };
  }
}

interface Subscription {
  definition: SnsEventDefinition;
  subscriptionArn: string;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class SnsEventSource {
  private server: Server | undefined;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly queues = new Map<string, FunctionQueue>();
  private stopping = false;
  /** Deliveries that reached the end of their retries, by outcome (for the stop summary and tests). */
  readonly outcomes = { delivered: 0, retried: 0, deadLettered: 0, lost: 0 };

  constructor(
    private readonly definitions: SnsEventDefinition[],
    private readonly sns: SNSClient,
    private readonly invoke: Invoke,
    private readonly log: SourceLog,
    private readonly options: SnsEventSourceOptions,
  ) {
    for (const { functionKey } of definitions) {
      if (this.queues.has(functionKey)) continue;
      this.queues.set(
        functionKey,
        new FunctionQueue(
          functionKey,
          options.maxQueuedDeliveries ?? DEFAULT_MAX_QUEUED_DELIVERIES,
          options.concurrency ?? DEFAULT_CONCURRENCY,
        ),
      );
    }
  }

  /** What each function holds now, the most it held, and how many notifications it throttled. */
  flow(): DeliveryFlow[] {
    return [...this.queues.values()].map((q) => q.flow());
  }

  async start(): Promise<void> {
    const server = createServer((request, response) => {
      void this.receive(request).then(
        (status) => response.writeHead(status).end(),
        (err) => {
          this.log.warning(`sns: rejected a notification: ${errorText(err)}`);
          response.writeHead(400).end(errorText(err));
        },
      );
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.callbackPort, '0.0.0.0', () => resolve());
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : this.options.callbackPort;

    const topics = new Set<string>();
    for (const d of this.definitions) {
      topics.add(d.topicName);
      if (d.deadLetterTopicArn) topics.add(topicName(d.deadLetterTopicArn));
    }
    for (const name of topics) await this.sns.send(new CreateTopicCommand({ Name: name }));

    for (const [index, definition] of this.definitions.entries()) {
      const path = `/${encodeURIComponent(definition.functionKey)}/${index}`;
      const endpoint = `http://${this.options.callbackHost}:${port}${path}`;
      const result = await this.sns.send(
        new SubscribeCommand({
          TopicArn: definition.topicArn,
          Protocol: 'http',
          Endpoint: endpoint,
          Attributes: definition.filterPolicy
            ? { FilterPolicy: JSON.stringify(definition.filterPolicy) }
            : undefined,
          ReturnSubscriptionArn: true,
        }),
      );
      this.subscriptions.set(path, {
        definition,
        subscriptionArn: result.SubscriptionArn ?? definition.topicArn,
      });
      this.log.notice(`sns: ${definition.functionKey} ← topic ${definition.topicName}`);
    }
  }

  private async receive(request: IncomingMessage): Promise<number> {
    const subscription = this.subscriptions.get(request.url ?? '');
    const body = await readBody(request);
    if (!subscription) return 404;
    const notification = parseNotification(body);
    if (notification.Type === 'SubscriptionConfirmation') {
      if (!notification.SubscribeURL)
        throw new NotificationError('a subscription confirmation without SubscribeURL');
      await fetch(notification.SubscribeURL);
      return 200;
    }
    if (notification.Type !== 'Notification') return 200;
    if (this.stopping) return 503;
    const event = snsEvent(notification, subscription.subscriptionArn);
    const queue = this.queues.get(subscription.definition.functionKey)!;
    // Lambda throttling: SNS keeps the message and delivers it again later.
    if (!queue.take()) return 429;
    const delivery = this.deliver(subscription.definition, event, queue).finally(() => {
      queue.done();
      this.inFlight.delete(delivery);
    });
    this.inFlight.add(delivery);
    return 202;
  }

  private async deliver(
    definition: SnsEventDefinition,
    event: SNSEvent,
    queue: FunctionQueue,
  ): Promise<void> {
    const attempts = 1 + definition.maximumRetryAttempts;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        this.outcomes.retried++;
        await new Promise((r) => setTimeout(r, this.options.retryDelayMs * (attempt - 1)));
      }
      try {
        await queue.invoke(() => this.invoke(definition.functionKey, event));
        this.outcomes.delivered++;
        return;
      } catch (err) {
        lastError = err;
        this.log.warning(
          `sns: ${definition.functionKey} failed attempt ${attempt}/${attempts} for message ${event.Records[0]!.Sns.MessageId}: ${errorText(err)}`,
        );
      }
    }
    await this.deadLetter(definition, event, lastError);
  }

  private async deadLetter(definition: SnsEventDefinition, event: SNSEvent, error: unknown): Promise<void> {
    const messageId = event.Records[0]!.Sns.MessageId;
    if (!definition.deadLetterTopicArn) {
      this.outcomes.lost++;
      this.log.error(
        `sns: ${definition.functionKey} gave up on message ${messageId} and has no onError topic; the message was: ${event.Records[0]!.Sns.Message}`,
      );
      return;
    }
    const text = (value: string) => ({ DataType: 'String', StringValue: value });
    try {
      await this.sns.send(
        new PublishCommand({
          TopicArn: definition.deadLetterTopicArn,
          Message: JSON.stringify(event),
          MessageAttributes: {
            [ATTRIBUTE.requestId]: text(randomUUID()),
            ErrorCode: { DataType: 'Number', StringValue: '200' },
            [ATTRIBUTE.errorMessage]: text(errorText(error).slice(0, 1000)),
          },
        }),
      );
      this.outcomes.deadLettered++;
      this.log.warning(
        `sns: ${definition.functionKey} sent message ${messageId} to ${definition.deadLetterTopicArn}`,
      );
    } catch (err) {
      this.outcomes.lost++;
      this.log.error(
        `sns: could not send message ${messageId} of ${definition.functionKey} to its onError topic (${errorText(err)}); the message was: ${event.Records[0]!.Sns.Message}`,
      );
    }
  }

  /** Stops taking notifications and waits for the deliveries under way (their retries included). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.inFlight]);
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
