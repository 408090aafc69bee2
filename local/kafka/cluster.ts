/**
 * A local Kafka cluster shaped like Amazon MSK's: LOCAL_KAFKA_NODES brokers (broker-only KRaft nodes, each in
 * its own "availability zone" through broker.rack) on consecutive ports from LOCAL_KAFKA_PORT, and one
 * controller-only node on the port after them. As on MSK, the controller quorum is not on the brokers, so
 * brokers can be killed, restarted one by one or two at a time while the cluster's metadata stays served.
 *
 *   <dir>/cluster-<port>/layout.json    what was started: nodes, port, version, cluster id
 *   <dir>/cluster-<port>/node-<id>/     a broker's server.properties, data, logs, pid file
 *   <dir>/cluster-<port>/controller/    the controller's
 *   <dir>/libs                          Kafka's jars, shared with the one-broker mode
 *
 * One node (the default) is the one-broker mode of ./launcher, unchanged.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logLevel } from 'kafkajs';
import { createKafka } from '../../shared/kafka/client';
import {
  type BrokerOptions,
  dockerEngineRuns,
  kafkaAnswers,
  kafkaVersion,
  killBroker,
  LauncherError,
  newClusterId,
  portAnswers,
  requireJava,
  resolveJars,
  runNode,
  startBroker,
  startWithDocker,
  type StartedBroker,
  stopBroker,
} from './launcher';

/** The controller's node id: apart from the brokers' 1..N, as MSK's controllers are apart from its brokers. */
export const CONTROLLER_ID = 100;

/** Heaps small enough for three brokers and a controller beside other work on a 2-core, shared machine. */
export const BROKER_HEAP = '384m';
export const CONTROLLER_HEAP = '256m';

export interface ClusterNode {
  id: number;
  role: 'broker' | 'controller';
  /** Client port (brokers) or controller port. */
  port: number;
  options: BrokerOptions;
}

interface Layout {
  nodes: number;
  port: number;
  version: string;
  clusterId: string;
}

/** One folder per first port: a cluster on other ports (the tests' own, say) never touches this one. */
export const clusterDir = (options: BrokerOptions): string => join(options.dir, `cluster-${options.port}`);
const layoutFile = (options: BrokerOptions): string => join(clusterDir(options), 'layout.json');

export const nodeCount = (options: BrokerOptions): number => options.nodes ?? 1;

/** Replicas of the project's topics on this many brokers: 3 as on MSK, fewer when there are fewer brokers. */
export function replicationFactor(nodes: number): number {
  return Math.min(3, nodes);
}

/** MSK's recommendation: min.insync.replicas one below the replication factor (never below one). */
export function minInsyncReplicas(nodes: number): number {
  return Math.max(1, replicationFactor(nodes) - 1);
}

export function brokerAddresses(options: BrokerOptions): string[] {
  return Array.from({ length: nodeCount(options) }, (_, i) => `127.0.0.1:${options.port + i}`);
}

function readLayout(options: BrokerOptions): Layout | null {
  const file = layoutFile(options);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Layout) : null;
}

/** The nodes of the cluster these options describe (brokers 1..N, then the controller), with their options. */
export function clusterNodes(options: BrokerOptions, clusterId?: string): ClusterNode[] {
  const nodes = nodeCount(options);
  const controllerPort = options.port + nodes;
  const voters = `${CONTROLLER_ID}@127.0.0.1:${controllerPort}`;
  const rf = String(replicationFactor(nodes));
  const minIsr = String(minInsyncReplicas(nodes));
  const libs = options.libs ?? join(options.dir, 'libs');
  const common = {
    libs,
    allowDocker: false,
    version: kafkaVersion(options),
    clusterId,
    say: options.say,
  };
  const brokers: ClusterNode[] = Array.from({ length: nodes }, (_, i) => {
    const id = i + 1;
    const port = options.port + i;
    return {
      id,
      role: 'broker',
      port,
      options: {
        ...common,
        dir: join(clusterDir(options), `node-${id}`),
        port,
        heap: BROKER_HEAP,
        properties: {
          'process.roles': 'broker',
          'node.id': String(id),
          'controller.quorum.voters': voters,
          listeners: `PLAINTEXT://127.0.0.1:${port}`,
          'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
          // One rack per broker, as MSK names each broker's availability zone: replicas spread across them.
          'broker.rack': `az${id}`,
          'default.replication.factor': rf,
          'min.insync.replicas': minIsr,
          'offsets.topic.replication.factor': rf,
          'transaction.state.log.replication.factor': rf,
          'transaction.state.log.min.isr': minIsr,
          'unclean.leader.election.enable': 'false',
          ...options.properties,
        },
      },
    };
  });
  const controller: ClusterNode = {
    id: CONTROLLER_ID,
    role: 'controller',
    port: controllerPort,
    options: {
      ...common,
      dir: join(clusterDir(options), 'controller'),
      port: controllerPort,
      heap: CONTROLLER_HEAP,
      properties: {
        'process.roles': 'controller',
        'node.id': String(CONTROLLER_ID),
        'controller.quorum.voters': voters,
        listeners: `CONTROLLER://127.0.0.1:${controllerPort}`,
        'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT',
        'advertised.listeners': '',
        'inter.broker.listener.name': '',
      },
    },
  };
  return [...brokers, controller];
}

/** The brokers that a metadata request to any live broker lists as registered and unfenced. */
export async function liveBrokerIds(addresses: string[]): Promise<number[]> {
  for (const address of addresses) {
    if (!(await portAnswers(Number(address.split(':')[1])))) continue;
    const admin = createKafka(
      { brokers: [address], clientId: 'local-kafka-probe' },
      { retry: { retries: 0 }, connectionTimeout: 1500, requestTimeout: 3000, logLevel: logLevel.NOTHING },
    ).admin();
    try {
      await admin.connect();
      const { brokers } = await admin.describeCluster();
      return brokers.map((b) => b.nodeId).sort((a, b) => a - b);
    } catch {
      // try the next address
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
  return [];
}

function checkLayout(options: BrokerOptions): Layout {
  const wanted = { nodes: nodeCount(options), port: options.port, version: kafkaVersion(options) };
  const found = readLayout(options);
  if (!found) {
    const layout = { ...wanted, clusterId: newClusterId() };
    mkdirSync(clusterDir(options), { recursive: true });
    writeFileSync(layoutFile(options), JSON.stringify(layout, null, 2));
    return layout;
  }
  if (found.nodes !== wanted.nodes || found.port !== wanted.port || found.version !== wanted.version) {
    throw new LauncherError(
      `${clusterDir(options)} holds a cluster of ${found.nodes} brokers from port ${found.port} on Kafka ${found.version}, ` +
        `not ${wanted.nodes} from ${wanted.port} on ${wanted.version}: start it with those settings, or stop it and set ` +
        'LOCAL_KAFKA_DIR to another folder (or remove that one, losing its data)',
    );
  }
  return found;
}

/** Docker: the compose file's `cluster` profile, with this cluster's ports. */
function clusterCompose(options: BrokerOptions) {
  const env: Record<string, string> = { KAFKA_CONTROLLER_PORT: String(options.port + nodeCount(options)) };
  for (let i = 0; i < nodeCount(options); i++) env[`KAFKA_NODE_${i + 1}_PORT`] = String(options.port + i);
  return {
    profile: 'cluster',
    services: ['kafka-controller', ...Array.from({ length: nodeCount(options) }, (_, i) => `kafka-${i + 1}`)],
    env,
  };
}

/**
 * Starts the cluster's nodes that are not running (all of them the first time; after a crash or
 * `kafka:stop --node N`, the missing ones) and waits until every broker is registered. Idempotent.
 */
export async function startCluster(options: BrokerOptions): Promise<StartedBroker> {
  const nodes = nodeCount(options);
  const addresses = brokerAddresses(options);
  const all = (ids: number[]) => ids.length === nodes;
  if (all(await liveBrokerIds(addresses))) return { brokers: addresses, how: 'reused' };
  if (nodes !== 3 && options.allowDocker !== false && (await dockerEngineRuns())) {
    throw new LauncherError(
      'the compose file has a cluster of 3 brokers: set LOCAL_KAFKA_NODES=3 with Docker',
    );
  }
  if (options.allowDocker !== false && (await dockerEngineRuns())) {
    await startWithDocker(options, addresses, clusterCompose(options));
    await waitForBrokers(addresses, nodes);
    return { brokers: addresses, how: 'docker' };
  }
  await requireJava(options);
  const layout = checkLayout(options);
  const cluster = clusterNodes(options, layout.clusterId);
  await resolveJars(cluster[0]!.options);
  const controller = cluster.find((n) => n.role === 'controller')!;
  if (!(await portAnswers(controller.port))) {
    await runNode(controller.options, () => portAnswers(controller.port));
  }
  const down = [];
  for (const node of cluster.filter((n) => n.role === 'broker')) {
    if (!(await portAnswers(node.port))) down.push(node);
  }
  // Brokers start side by side: each is ready once it serves metadata requests.
  await Promise.all(down.map((n) => runNode(n.options, () => kafkaAnswers([`127.0.0.1:${n.port}`]))));
  await waitForBrokers(addresses, nodes);
  return { brokers: addresses, how: 'java' };
}

async function waitForBrokers(addresses: string[], nodes: number, timeoutMs = 120000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let live: number[] = [];
  while (Date.now() < until) {
    live = await liveBrokerIds(addresses);
    if (live.length === nodes) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new LauncherError(
    `only brokers ${live.join(', ') || 'none'} of ${nodes} registered within ${timeoutMs / 1000} s`,
  );
}

/** One node of the cluster by id (1..N, or CONTROLLER_ID), or a message naming the ones there are. */
export function clusterNode(options: BrokerOptions, id: number): ClusterNode {
  const layout = readLayout(options);
  const node = clusterNodes(options, layout?.clusterId).find((n) => n.id === id);
  if (!node) {
    throw new LauncherError(
      `there is no node ${id}: the brokers are 1 to ${nodeCount(options)}, the controller is ${CONTROLLER_ID}`,
    );
  }
  return node;
}

/** Starts one node again (after it was stopped or killed) and waits until it serves. */
export async function startClusterNode(options: BrokerOptions, id: number): Promise<void> {
  const node = clusterNode(options, id);
  if (await portAnswers(node.port)) return;
  const ready =
    node.role === 'broker' ? () => kafkaAnswers([`127.0.0.1:${node.port}`]) : () => portAnswers(node.port);
  await runNode(node.options, ready);
}

/** Stops one node gracefully (controlled shutdown: its leaderships move first), or kills it as a crash. */
export async function stopClusterNode(
  options: BrokerOptions,
  id: number,
  how: 'stop' | 'kill' = 'stop',
): Promise<'stopped' | 'killed' | 'not-running'> {
  const node = clusterNode(options, id);
  if (how === 'kill') return killBroker(node.options) ? 'killed' : 'not-running';
  return stopBroker(node.options);
}

/** Stops every node: the brokers first (their controlled shutdown needs the controller), then the controller. */
export async function stopCluster(options: BrokerOptions): Promise<'stopped' | 'not-running'> {
  const layout = readLayout(options);
  if (!layout) return 'not-running';
  const cluster = clusterNodes({ ...options, nodes: layout.nodes, port: layout.port }, layout.clusterId);
  const brokers = await Promise.all(
    cluster.filter((n) => n.role === 'broker').map((n) => stopBroker(n.options)),
  );
  const controller = await stopBroker(cluster.find((n) => n.role === 'controller')!.options);
  return [...brokers, controller].includes('stopped') ? 'stopped' : 'not-running';
}

export interface NodeStatus {
  id: number;
  role: ClusterNode['role'];
  address: string;
  answers: boolean;
}

/** Which nodes of the cluster answer. */
export async function clusterStatus(options: BrokerOptions): Promise<NodeStatus[]> {
  const live = new Set(await liveBrokerIds(brokerAddresses(options)));
  return Promise.all(
    clusterNodes(options).map(async (n) => ({
      id: n.id,
      role: n.role,
      address: `127.0.0.1:${n.port}`,
      answers: n.role === 'broker' ? live.has(n.id) : await portAnswers(n.port),
    })),
  );
}

/** One broker (LOCAL_KAFKA_NODES unset or 1) or the cluster, as the options say. */
export function startKafka(
  options: BrokerOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StartedBroker> {
  if (nodeCount(options) > 1 && !env.KAFKA_BROKERS) return startCluster(options);
  return startBroker(options, env);
}

/** Stops whatever the launcher started in this folder: the one broker, the cluster, or both. */
export async function stopKafka(options: BrokerOptions): Promise<'stopped' | 'not-running'> {
  const single = await stopBroker(options);
  const cluster = await stopCluster(options);
  return single === 'stopped' || cluster === 'stopped' ? 'stopped' : 'not-running';
}
