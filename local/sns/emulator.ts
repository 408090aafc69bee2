/**
 * The local SNS emulator: the SNS API server of serverless-offline-sns (CreateTopic, Subscribe, Publish,
 * ListTopics, ListSubscriptions, Unsubscribe; http and sqs subscriptions), hosted on its own port. Only its
 * server is used: delivery to functions is ours (see sns-event-source.ts), because the plugin runs handlers
 * inside its own process and drops a failed delivery without a retry or a record of it.
 *
 * HTTP deliveries are retried as SNS retries deliveries to Lambda: an answer of 429 or 5xx, or no answer,
 * is tried again on SNS's delivery policy for AWS-managed endpoints (snsRetryDelayMs). Publish never waits
 * for a delivery. What the emulator holds is bounded: at most `maxPendingDeliveries` deliveries under way
 * (first attempts and retries); a Publish that would go beyond is refused with SNS's ThrottledException
 * (HTTP 429, which the AWS SDK retries with backoff), never held and never dropped after it was confirmed.
 */
import { ListTopicsCommand } from '@aws-sdk/client-sns';
import type { Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createSnsClient } from '../../shared/sns/client';
import { SNS_DEFAULTS } from '../../shared/sns/config';

export interface SnsEmulator {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

export interface EmulatorOptions {
  port?: number;
  host?: string;
  region?: string;
  accountId?: string;
  /** Deliveries under way (first attempts and retries) before Publish is throttled; 1,000 by default. */
  maxPendingDeliveries?: number;
  /**
   * Retry failed HTTP deliveries on SNS's delivery policy (default true). False delivers each message once
   * whatever the answer, as serverless-offline-sns does on its own.
   */
  redeliver?: boolean;
  debug?: (line: string) => void;
}

interface SnsServer {
  publishHttp(event: string, subscription: { Endpoint: string }, raw: boolean): Promise<unknown>;
  publish(topicArn: string, ...rest: unknown[]): unknown;
}

type SnsServerClass = new (
  debug: (msg: unknown, context?: unknown) => void,
  app: unknown,
  region: string,
  accountId: string,
) => SnsServer;

/** How long closing waits for deliveries of messages Publish already confirmed. */
const DRAIN_MS = 10000;

export const DEFAULT_MAX_PENDING_DELIVERIES = 1000;

/**
 * SNS's delivery policy for AWS-managed endpoints (Lambda, SQS): the wait before retry `n` (1-based), or
 * undefined once the policy is exhausted. 3 retries at once, 2 one second apart, 10 backing off
 * exponentially from 1 to 20 seconds, then 100,000 twenty seconds apart: 100,015 retries over 23 days.
 */
export function snsRetryDelayMs(retry: number): number | undefined {
  if (retry < 1) return 0;
  if (retry <= 3) return 0;
  if (retry <= 5) return 1000;
  if (retry <= 15) return Math.round(1000 * 20 ** ((retry - 6) / 9));
  if (retry <= 100015) return 20000;
  return undefined;
}

/** Whether SNS tries a delivery again after this answer (undefined: no answer at all). */
export function isRetryableAnswer(status: number | undefined): boolean {
  return status === undefined || status === 429 || status >= 500;
}

/** SNS's answer to a Publish over its rate: ThrottledException, HTTP 429, in the query protocol's XML. */
class PublishThrottled extends Error {}

function throttledResponse(): string {
  return (
    '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>' +
    '<Code>Throttled</Code><Message>Rate exceeded: the local SNS emulator has its maximum of deliveries under way</Message>' +
    `</Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`
  );
}

/** serverless-offline-sns exports only its plugin; its server module sits beside the plugin's entry. */
async function loadSnsServer(): Promise<SnsServerClass> {
  const entry = require.resolve('serverless-offline-sns');
  const module = (await import(pathToFileURL(join(dirname(entry), 'sns-server.js')).href)) as {
    SNSServer: SnsServerClass;
  };
  return module.SNSServer;
}

export async function startSnsEmulator(options: EmulatorOptions = {}): Promise<SnsEmulator> {
  const host = options.host ?? '127.0.0.1';
  const SNSServer = await loadSnsServer();
  const { default: express } = await import('express');
  const app = express();
  const sns = new SNSServer(
    (msg) => options.debug?.(typeof msg === 'string' ? msg : JSON.stringify(msg)),
    app,
    options.region ?? SNS_DEFAULTS.region,
    options.accountId ?? SNS_DEFAULTS.account,
  );
  // Publish answers before it delivers to HTTP subscribers. SNS keeps what it confirmed, so closing the
  // emulator first finishes the deliveries under way (at most DRAIN_MS) instead of dropping them.
  const maxPending = options.maxPendingDeliveries ?? DEFAULT_MAX_PENDING_DELIVERIES;
  const delivering = new Set<Promise<void>>();
  // One controller per delivery, aborted when the emulator closes. Not one signal shared by all: fetch
  // adds a listener to the signal it is given and removes it only when the request is garbage-collected,
  // so a shared signal collected thousands of listeners (MaxListenersExceededWarning) in a long run.
  const stoppers = new Set<AbortController>();
  let closed = false;
  const redeliver = options.redeliver ?? true;
  const deliverHttp = async (event: string, endpoint: string, raw: boolean): Promise<void> => {
    const stopper = new AbortController();
    if (closed) stopper.abort();
    stoppers.add(stopper);
    try {
      await deliverUntilDone(event, endpoint, raw, stopper.signal);
    } finally {
      stoppers.delete(stopper);
    }
  };
  const deliverUntilDone = async (
    event: string,
    endpoint: string,
    raw: boolean,
    stop: AbortSignal,
  ): Promise<void> => {
    for (let retry = 0; ; retry++) {
      const wait = snsRetryDelayMs(retry);
      if (wait === undefined) {
        options.debug?.(`delivery policy exhausted for ${endpoint}; the message is discarded`);
        return;
      }
      if (wait > 0) await sleep(wait, undefined, { signal: stop });
      let status: number | undefined;
      try {
        const answer = await fetch(endpoint, {
          method: 'POST',
          body: event,
          headers: { 'x-amz-sns-rawdelivery': String(raw), 'Content-Type': 'text/plain; charset=UTF-8' },
          signal: stop,
        });
        status = answer.status;
        await answer.arrayBuffer();
      } catch (err) {
        if (stop.aborted) throw err;
        options.debug?.(`delivery to ${endpoint} failed: ${(err as Error).message}`);
      }
      if (!redeliver || !isRetryableAnswer(status)) return;
    }
  };
  sns.publishHttp = (event, subscription, raw) => {
    const delivery = deliverHttp(event, subscription.Endpoint, raw)
      .catch(() => undefined)
      .finally(() => delivering.delete(delivery));
    delivering.add(delivery);
    return delivery;
  };
  const publish = sns.publish.bind(sns);
  sns.publish = (...args) => {
    if (delivering.size >= maxPending) throw new PublishThrottled();
    return publish(...args);
  };
  app.use((err: unknown, _request: unknown, response: Response, next: (err: unknown) => void) => {
    if (!(err instanceof PublishThrottled)) return next(err);
    response.status(429).type('text/xml').send(throttledResponse());
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? 0, host, () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`port ${options.port} is taken; stop what uses it or set SNS_ENDPOINT to another port`)
          : err,
      ),
    );
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  return {
    endpoint: `http://${host}:${port}`,
    port,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...delivering]),
        new Promise((resolve) => (timer = setTimeout(resolve, DRAIN_MS))),
      ]);
      clearTimeout(timer);
      // What is still being retried then (a subscriber that stays down) ends with the emulator.
      if (delivering.size > 0) options.debug?.(`closing with ${delivering.size} deliveries still retrying`);
      closed = true;
      for (const stopper of stoppers) stopper.abort();
      await Promise.allSettled([...delivering]);
    },
  };
}

/** True when an SNS API answers at the endpoint (the emulator, LocalStack). */
export async function snsAnswers(endpoint: string, region: string = SNS_DEFAULTS.region): Promise<boolean> {
  const client = createSnsClient({ endpoint, region });
  try {
    await client.send(new ListTopicsCommand({}), { abortSignal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}
