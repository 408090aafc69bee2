/**
 * The cluster the failover tests own: three brokers and a controller started by ./setup on CLUSTER_KAFKA_PORT
 * (default LOCAL_KAFKA_PORT + 10), beside any broker or cluster a developer runs on LOCAL_KAFKA_PORT. The
 * tests kill, stop and start its nodes through the same CLI a developer uses (`kafka:stop --node N --kill`).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BrokerOptions } from '../../local/kafka/launcher';
import { defaultBrokerOptions } from '../../local/kafka/launcher';

const run = promisify(execFile);

export const NODES = 3;

export function testClusterOptions(): BrokerOptions {
  const base = defaultBrokerOptions();
  const port = Number(process.env.CLUSTER_KAFKA_PORT || base.port + 10);
  return { ...base, port, nodes: NODES, allowDocker: false };
}

/** The environment under which the project's CLI addresses the test cluster. */
export function clusterCliEnv(): NodeJS.ProcessEnv {
  const options = testClusterOptions();
  return {
    ...process.env,
    KAFKA_BROKERS: '',
    LOCAL_KAFKA_PORT: String(options.port),
    LOCAL_KAFKA_NODES: String(NODES),
    LOCAL_KAFKA_DIR: options.dir,
    LOCAL_KAFKA_VERSION: options.version,
  };
}

/** Runs `node dist/local/kafka/cli.js <args>` against the test cluster; what it printed, or its failure. */
export async function kafkaCli(...args: string[]): Promise<string> {
  const { stdout, stderr } = await run(process.execPath, ['dist/local/kafka/cli.js', ...args], {
    env: clusterCliEnv(),
    timeout: 180000,
  });
  return `${stdout}${stderr}`;
}
