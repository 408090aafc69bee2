/**
 * SNS in tests: the local emulator on a free port, an HTTP subscriber that collects what SNS delivers, and
 * the LocalStack init script run against the emulator.
 */
import { execFile, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createInterface } from 'node:readline';
import type { SnsEmulator } from '../../local/sns/emulator';
import { parseNotification, type SnsNotification } from '../../local/sns/lambda-events/sns-event';
import { ROOT } from './fixtures';

// The AWS SDK warns once per process that Node 20 support ends; the functions run on Node 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const INIT_SCRIPT = join(ROOT, 'localstack', 'init', 'ready.d', '10-sns-topics.sh');

/**
 * The emulator in a process of its own, from the build (`npm run test:integration` builds first): the
 * emulator's server module is ESM, which jest's module loader does not import. `env` reaches the emulator
 * (SNS_EMULATOR_MAX_PENDING).
 */
export function emulator(env: NodeJS.ProcessEnv = {}): Promise<SnsEmulator> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'dist', 'local', 'sns', 'emulator-cli.js'), '--port', '0'],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`the SNS emulator exited (${code}): ${output.join('\n')}`)),
    );
    createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /listening on (\S+)/.exec(line);
      if (!match) return;
      const endpoint = match[1]!;
      resolve({
        endpoint,
        port: Number(new URL(endpoint).port),
        close: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.removeAllListeners('exit');
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

export async function runInitScript(env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await promisify(execFile)('sh', [INIT_SCRIPT], { env: { ...process.env, ...env } });
  return stdout;
}

export interface Collector {
  url: string;
  /** Notifications answered 2xx, in order. */
  received: SnsNotification[];
  /** Sets the status it answers from now on (200 by default; 503 plays a subscriber that is down). */
  answer(status: number): void;
  /** Notifications it answered with something other than 2xx. */
  refused(): number;
  close(): Promise<void>;
}

/** An HTTP endpoint that records every SNS notification posted to it (and answers `status`). */
export async function collector(options: { status?: number } = {}): Promise<Collector> {
  const received: SnsNotification[] = [];
  let status = options.status ?? 200;
  let refused = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const notification = parseNotification(Buffer.concat(chunks).toString('utf8'));
      if (notification.Type === 'Notification') {
        if (status >= 200 && status < 300) received.push(notification);
        else refused++;
      }
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    received,
    answer: (next) => (status = next),
    refused: () => refused,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
