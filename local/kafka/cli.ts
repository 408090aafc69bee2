/**
 * npm run kafka:start | kafka:stop | kafka:status — the local broker (or, with LOCAL_KAFKA_NODES, the local
 * cluster) and the project's topics. In a cluster one node at a time can be stopped, killed as a crash, or
 * started again: `kafka:stop -- --node 2 [--kill]`, `kafka:start -- --node 2`.
 */
import { loadConfig } from '../../shared/config';
import { createKafka } from '../../shared/kafka/client';
import {
  clusterStatus,
  CONTROLLER_ID,
  minInsyncReplicas,
  nodeCount,
  replicationFactor,
  startClusterNode,
  startKafka,
  stopClusterNode,
  stopKafka,
} from './cluster';
import { defaultBrokerOptions, kafkaAnswers, kafkaVersion, LauncherError } from './launcher';
import { ensureTopics, projectTopics } from '../../shared/kafka/topics';

const say = (line: string) => console.log(`kafka: ${line}`);

export async function startAndCreateTopics(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const options = { ...defaultBrokerOptions(env), say };
  const started = await startKafka(options, env);
  const where = started.brokers.join(',');
  const nodes = nodeCount(options);
  const what = `${nodes > 1 ? `a cluster of ${nodes} brokers and a controller, ` : ''}Kafka ${kafkaVersion(options)}`;
  const how = {
    'existing-cluster': `using the cluster in KAFKA_BROKERS (${where})`,
    reused: `reusing ${nodes > 1 ? `the ${nodes} brokers` : 'the broker'} already answering on ${where}`,
    docker: `started ${what} with docker compose on ${where}`,
    java: `started ${what} from Maven Central jars on ${where} (state in ${options.dir})`,
  }[started.how];
  say(how);
  // Topics of a cluster this launcher runs get MSK's settings; an existing cluster keeps its own defaults.
  const local = started.how !== 'existing-cluster';
  const rf = local ? replicationFactor(nodes) : 1;
  const specs = projectTopics(env).map((t) =>
    local && nodes > 1
      ? { ...t, configs: { 'min.insync.replicas': String(minInsyncReplicas(nodes)), ...t.configs } }
      : t,
  );
  const admin = createKafka({ ...loadConfig({ ...env, KAFKA_BROKERS: where }) }).admin();
  await admin.connect();
  try {
    const outcomes = await ensureTopics(admin, specs, rf);
    const settings =
      rf > 1 ? `, replication factor ${rf}, min.insync.replicas ${minInsyncReplicas(nodes)}` : '';
    say(
      `topics ready: ${outcomes.map((o) => `${o.topic} (${o.partitions} partition${o.partitions === 1 ? '' : 's'}, ${o.action})`).join(', ')}${settings}`,
    );
  } finally {
    await admin.disconnect();
  }
  return started.brokers;
}

/** `--node N` (and `--kill`) from the command line, or a usage error. */
export function nodeArguments(args: string[]): { node?: number; kill: boolean } {
  const unknown = args.filter((a, i) => a !== '--node' && a !== '--kill' && args[i - 1] !== '--node');
  if (unknown.length > 0) throw new UsageError(`unknown argument ${unknown[0]}`);
  const at = args.indexOf('--node');
  const kill = args.includes('--kill');
  if (at === -1) {
    if (kill) throw new UsageError('--kill needs --node N: it kills one node of the cluster');
    return { kill };
  }
  const node = Number(args[at + 1]);
  if (!Number.isInteger(node) || node < 1) {
    throw new UsageError(`--node needs a node id (1, 2, 3, ... or ${CONTROLLER_ID} for the controller)`);
  }
  return { node, kill };
}

class UsageError extends Error {}

const USAGE = `usage: local-kafka start [--node N] | stop [--node N [--kill]] | status
  LOCAL_KAFKA_NODES=3 makes a cluster of 3 brokers (and a controller, node ${CONTROLLER_ID})`;

function needsCluster(options: ReturnType<typeof defaultBrokerOptions>): void {
  if (nodeCount(options) < 2) {
    throw new UsageError(
      '--node is for a cluster: set LOCAL_KAFKA_NODES (for example 3) as when it was started',
    );
  }
}

async function main(command: string | undefined, args: string[]): Promise<number> {
  const options = { ...defaultBrokerOptions(), say };
  const { node, kill } = nodeArguments(args);
  switch (command) {
    case 'start':
      if (node !== undefined) {
        needsCluster(options);
        await startClusterNode(options, node);
        say(`node ${node} is answering again`);
        return 0;
      }
      await startAndCreateTopics();
      return 0;
    case 'stop': {
      if (process.env.KAFKA_BROKERS) {
        say('KAFKA_BROKERS points at an existing cluster; nothing to stop');
        return 0;
      }
      if (node !== undefined) {
        needsCluster(options);
        const outcome = await stopClusterNode(options, node, kill ? 'kill' : 'stop');
        say(outcome === 'not-running' ? `node ${node} is not running` : `node ${node} ${outcome}`);
        return 0;
      }
      const outcome = await stopKafka(options);
      say(outcome === 'stopped' ? 'stopped (data kept)' : 'no broker started by this project is running');
      return 0;
    }
    case 'status': {
      if (process.env.KAFKA_BROKERS || nodeCount(options) < 2) {
        const brokers = process.env.KAFKA_BROKERS ? loadConfig().brokers : [`127.0.0.1:${options.port}`];
        const up = await kafkaAnswers(brokers);
        say(
          up
            ? `answering on ${brokers.join(',')}`
            : `not answering on ${brokers.join(',')} (npm run kafka:start)`,
        );
        return up ? 0 : 1;
      }
      const nodes = await clusterStatus(options);
      for (const n of nodes) {
        say(
          `${n.role === 'broker' ? `broker ${n.id}` : `controller ${n.id}`} on ${n.address}: ${n.answers ? 'answering' : 'down'}`,
        );
      }
      const up = nodes.filter((n) => n.answers).length;
      say(`${up} of ${nodes.length} nodes answering`);
      return up === nodes.length ? 0 : 1;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

if (require.main === module) {
  main(process.argv[2], process.argv.slice(3)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UsageError) {
        console.error(`kafka: ${err.message}\n${USAGE}`);
        process.exit(2);
      }
      console.error(`kafka: ${err instanceof LauncherError ? err.message : (err as Error).stack}`);
      process.exit(1);
    },
  );
}
