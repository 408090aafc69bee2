/**
 * A broker of a test's own, on its own port and data folder, that the test may kill -9 and start again —
 * never the shared test broker other tests use. It reuses the jars the shared broker already resolved.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  defaultBrokerOptions,
  killBroker,
  portAnswers,
  startBroker,
  stopBroker,
} from '../../local-kafka/launcher';
import { waitFor } from './wait';

export interface OwnBroker {
  brokers: string[];
  /** kill -9, then waits until neither the broker's nor its controller's port answers. */
  kill(): Promise<void>;
  /** Starts it again on the same data folder. */
  restart(): Promise<void>;
  /** Stops it and removes its data folder. */
  remove(): Promise<void>;
}

export async function ownBroker(prefix: string): Promise<OwnBroker> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const shared = join(defaultBrokerOptions().dir, 'libs');
  if (existsSync(shared)) cpSync(shared, join(dir, 'libs'), { recursive: true });
  // LOCAL_KAFKA_PORT + 50 (and + 51 for its controller) unless RESTART_KAFKA_PORT says otherwise.
  const port = Number(process.env.RESTART_KAFKA_PORT || defaultBrokerOptions().port + 50);
  const options = { dir, port, allowDocker: false };
  const env = { ...process.env, KAFKA_BROKERS: '' };
  const { brokers } = await startBroker(options, env);
  return {
    brokers,
    async kill() {
      if (!killBroker(options)) throw new Error(`no broker of ours to kill in ${dir}`);
      await waitFor(
        async () => !(await portAnswers(port)) && !(await portAnswers(port + 1)),
        'the killed broker to be gone',
      );
    },
    async restart() {
      await startBroker(options, env);
    },
    async remove() {
      await stopBroker(options).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
