/**
 * A broker of a test's own, on RESTART_KAFKA_PORT (LOCAL_KAFKA_PORT + 50 unless set), in a temporary
 * directory, that the test may kill -9, stop and start again. The shared test broker is never touched.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  defaultBrokerOptions,
  killBroker,
  portAnswers,
  startBroker,
  stopBroker,
} from '../../local/kafka/launcher';
import { waitFor } from './wait';

export interface RestartableBroker {
  brokers: string[];
  port: number;
  start(): Promise<void>;
  /** kill -9, then waits until its ports no longer answer. */
  kill(): Promise<void>;
  /** An orderly stop (SIGTERM), as an operator or a rolling restart does. */
  stop(): Promise<void>;
  /** Stops it and removes its directory. */
  remove(): Promise<void>;
  /** Sends the broker process a signal at once: SIGSTOP freezes it mid-request, SIGCONT lets it go on. */
  signal(name: 'SIGSTOP' | 'SIGCONT'): void;
}

export async function restartableBroker(): Promise<RestartableBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-restart-'));
  const shared = join(defaultBrokerOptions().dir, 'libs');
  // The jars the test broker already resolved, so that this broker does not resolve them again.
  if (existsSync(shared)) cpSync(shared, join(dir, 'libs'), { recursive: true });
  const port = Number(process.env.RESTART_KAFKA_PORT || defaultBrokerOptions().port + 50);
  const options = { dir, port, allowDocker: false };
  const env = { ...process.env, KAFKA_BROKERS: '' };
  const gone = () =>
    waitFor(
      async () => !(await portAnswers(port)) && !(await portAnswers(port + 1)),
      'the broker to be gone',
      60000,
    );
  const { brokers } = await startBroker(options, env);
  return {
    brokers,
    port,
    start: async () => {
      await startBroker(options, env);
    },
    kill: async () => {
      if (!killBroker(options)) throw new Error(`no broker of this test runs on port ${port}`);
      await gone();
    },
    stop: async () => {
      await stopBroker(options);
      await gone();
    },
    signal: (name) => {
      process.kill(Number(readFileSync(join(dir, 'broker.pid'), 'utf8').trim()), name);
    },
    remove: async () => {
      await stopBroker(options).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
