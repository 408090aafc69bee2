/**
 * The local SNS emulator: the SNS API server of serverless-offline-sns (CreateTopic, Subscribe, Publish,
 * ListTopics, ListSubscriptions, Unsubscribe; http and sqs subscriptions), hosted on its own port. Only its
 * server is used: delivery to functions is ours (see sns-event-source.ts), because the plugin runs handlers
 * inside its own process and drops a failed delivery without a retry or a record of it.
 */
import { ListTopicsCommand } from '@aws-sdk/client-sns';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createSnsClient } from '../shared/sns/client';
import { SNS_DEFAULTS } from '../shared/sns/config';

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
  debug?: (line: string) => void;
}

interface SnsServer {
  publishHttp(event: string, subscription: unknown, raw: boolean): Promise<unknown>;
}

type SnsServerClass = new (
  debug: (msg: unknown, context?: unknown) => void,
  app: unknown,
  region: string,
  accountId: string,
) => SnsServer;

/** How long closing waits for deliveries of messages Publish already confirmed. */
const DRAIN_MS = 10000;

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
  const delivering = new Set<Promise<unknown>>();
  const publishHttp = sns.publishHttp.bind(sns);
  sns.publishHttp = (event, subscription, raw) => {
    const delivery = publishHttp(event, subscription, raw).finally(() => delivering.delete(delivery));
    delivering.add(delivery);
    return delivery;
  };
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
