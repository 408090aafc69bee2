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

type SnsServerClass = new (
  debug: (msg: unknown, context?: unknown) => void,
  app: unknown,
  region: string,
  accountId: string,
) => unknown;

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
  new SNSServer(
    (msg) => options.debug?.(typeof msg === 'string' ? msg : JSON.stringify(msg)),
    app,
    options.region ?? SNS_DEFAULTS.region,
    options.accountId ?? SNS_DEFAULTS.account,
  );
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
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
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
