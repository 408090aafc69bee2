/**
 * Starts and stops the local Apache Kafka broker (KRaft, one node by default, no ZooKeeper; LOCAL_KAFKA_NODES
 * asks for a cluster, see ./cluster):
 *
 *  1. KAFKA_BROKERS set      → an existing cluster is used as it is; nothing is started.
 *  2. a broker answers       → it is reused.
 *  3. a Docker engine runs   → docker compose starts the apache/kafka service of docker-compose.yml.
 *  4. Java 17+ and Maven     → Kafka's own jars are resolved from Maven Central into <dir>/libs, the KRaft
 *                              storage is formatted once, and the broker runs as a background java process.
 *
 * State lives in one folder (default .kafka/): jars, data (kept across stop/start), logs, the pid file.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { splitBrokers } from '../../shared/config';
import { logLevel } from 'kafkajs';
import { createKafka } from '../../shared/kafka/client';
import { isRunning, readPid, stopByPidFile } from '../common/pid-file';
import { projectRoot } from '../common/project-root';

const run = promisify(execFile);

/** The Kafka version the project runs by default (LOCAL_KAFKA_VERSION picks another from Maven Central). */
export const KAFKA_VERSION = '3.9.1';

/** The Kafka version a launcher call runs: the options', else LOCAL_KAFKA_VERSION, else the default. */
export function kafkaVersion(options: Pick<BrokerOptions, 'version'> = {}): string {
  return options.version ?? (process.env.LOCAL_KAFKA_VERSION || KAFKA_VERSION);
}

export interface BrokerOptions {
  /** State folder: jars, data, logs, pid file. */
  dir: string;
  /** Client port on 127.0.0.1; the KRaft controller listens on port + 1. */
  port: number;
  /** Extra or overriding server.properties entries (SASL/TLS listeners in tests); '' removes an entry. */
  properties?: Record<string, string>;
  /** Kafka's jars (default <dir>/libs): a second broker can share the first one's. */
  libs?: string;
  /** Extra arguments for the KRaft storage format (for example --add-scram for SCRAM users in tests). */
  formatArgs?: string[];
  /** Use Docker when an engine answers (default true; tests that need their own broker say false). */
  allowDocker?: boolean;
  /** Progress lines for people; silent by default. */
  say?: (line: string) => void;
  /** Kafka version from Maven Central (default: kafkaVersion()). */
  version?: string;
  /** Brokers to run (default 1; more make a cluster with its own controller, see ./cluster). */
  nodes?: number;
  /** KRaft cluster id to format the storage with (the nodes of one cluster share it; default: a new one). */
  clusterId?: string;
  /** Maximum Java heap (default 1g; the cluster's nodes use less). */
  heap?: string;
}

export interface StartedBroker {
  brokers: string[];
  how: 'existing-cluster' | 'reused' | 'docker' | 'java';
}

export class LauncherError extends Error {}

export const MAX_NODES = 9;

/**
 * Options from the environment: LOCAL_KAFKA_PORT, LOCAL_KAFKA_DIR, LOCAL_KAFKA_NODES, LOCAL_KAFKA_VERSION. A
 * version other than the default keeps its jars and data apart, in <dir>/<version>, unless LOCAL_KAFKA_DIR
 * names a folder.
 */
export function defaultBrokerOptions(env: NodeJS.ProcessEnv = process.env): BrokerOptions {
  const root = projectRoot();
  const port = Number(env.LOCAL_KAFKA_PORT || 9092);
  if (!Number.isInteger(port) || port < 1 || port > 65534) {
    throw new LauncherError(`LOCAL_KAFKA_PORT must be a port number, not ${env.LOCAL_KAFKA_PORT}`);
  }
  const nodes = Number(env.LOCAL_KAFKA_NODES || 1);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) {
    throw new LauncherError(
      `LOCAL_KAFKA_NODES must be a whole number from 1 to ${MAX_NODES} (3 for a cluster like Amazon MSK's), not ${env.LOCAL_KAFKA_NODES}`,
    );
  }
  const version = env.LOCAL_KAFKA_VERSION || KAFKA_VERSION;
  if (!/^\d+\.\d+\.\d+$/.test(version)) {
    throw new LauncherError(`LOCAL_KAFKA_VERSION must be a Kafka release such as 4.1.1, not ${version}`);
  }
  const dir = env.LOCAL_KAFKA_DIR
    ? resolve(root, env.LOCAL_KAFKA_DIR)
    : version === KAFKA_VERSION
      ? resolve(root, '.kafka')
      : resolve(root, '.kafka', version);
  return { dir, port, nodes, version };
}

const paths = (dir: string, libs = join(dir, 'libs')) => ({
  libs,
  libsStamp: join(libs, '.pom.sha256'),
  data: join(dir, 'data'),
  logs: join(dir, 'logs'),
  properties: join(dir, 'server.properties'),
  pid: join(dir, 'broker.pid'),
  dockerMarker: join(dir, 'started-with-docker'),
});

export function portAnswers(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** True when a Kafka broker answers a metadata request at these addresses. */
export async function kafkaAnswers(brokers: string[]): Promise<boolean> {
  const admin = createKafka(
    { brokers, clientId: 'local-kafka-probe' },
    { retry: { retries: 0 }, connectionTimeout: 1500, requestTimeout: 3000, logLevel: logLevel.NOTHING },
  ).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function waitUntil(
  ready: () => Promise<boolean>,
  where: string,
  deadlineMs: number,
  alive: () => boolean,
  logFile: string,
): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (!alive()) {
      throw new LauncherError(`the Kafka process exited while starting; its log:\n${tail(logFile)}`);
    }
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new LauncherError(`Kafka did not answer on ${where} within ${deadlineMs / 1000} s; see ${logFile}`);
}

function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return '(no log written)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

async function commandWorks(command: string, args: string[]): Promise<string | null> {
  try {
    const { stdout, stderr } = await run(command, args, { timeout: 20000 });
    return `${stdout}${stderr}`;
  } catch {
    return null;
  }
}

export async function dockerEngineRuns(): Promise<boolean> {
  return (await commandWorks('docker', ['info', '--format', '{{.ServerVersion}}'])) !== null;
}

/** Major version of `java` on PATH, or null when there is none. */
export async function javaMajorVersion(): Promise<number | null> {
  const out = await commandWorks('java', ['-version']);
  const m = out?.match(/version "(\d+)(?:\.(\d+))?/);
  if (!m) return null;
  const major = Number(m[1]);
  return major === 1 ? Number(m[2]) : major;
}

export function serverProperties(options: BrokerOptions): string {
  const { port } = options;
  const controller = port + 1;
  const entries: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${controller}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': paths(options.dir).data,
    // Topics are created on purpose, with partitions enough to share; a typo in a topic name fails loudly.
    'auto.create.topics.enable': 'false',
    'num.partitions': '3',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '10',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    // The ingest function's transactions: the state topic is made on the first one; 10 partitions (not 50)
    // make that first request take a moment rather than many seconds.
    'transaction.state.log.num.partitions': '10',
    'group.initial.rebalance.delay.ms': '0',
    'log.retention.hours': '168',
    ...options.properties,
  };
  return `${Object.entries(entries)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

const majorOf = (version: string): number => Number(version.split('.')[0]);

export async function resolveJars(options: BrokerOptions): Promise<void> {
  const p = paths(options.dir, options.libs);
  const version = kafkaVersion(options);
  const pom = join(projectRoot(), 'local', 'kafka', 'pom.xml');
  const hash = createHash('sha256').update(readFileSync(pom)).update(version).digest('hex');
  if (existsSync(p.libsStamp) && readFileSync(p.libsStamp, 'utf8') === hash) return;
  if ((await commandWorks('mvn', ['-v'])) === null) {
    throw new LauncherError(
      'Maven (mvn) is needed to fetch Kafka from Maven Central: install Maven (apt-get install maven, brew install maven), ' +
        'or install Docker, or set KAFKA_BROKERS to an existing cluster.',
    );
  }
  options.say?.(`Fetching Apache Kafka ${version} jars from Maven Central (first run only)...`);
  rmSync(p.libs, { recursive: true, force: true });
  try {
    await run(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        pom,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${p.libs}`,
        '-DincludeScope=runtime',
        `-Dkafka.version=${version}`,
        // Kafka 4 logs through Log4j 2 instead of reload4j: the pom's kafka4 profile binds SLF4J to it.
        ...(majorOf(version) >= 4 ? ['-Dkafka4'] : []),
      ],
      { timeout: 10 * 60 * 1000, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new LauncherError(
      `Maven could not fetch the Kafka ${version} jars (is ${version} a release on Maven Central?):\n${e.stdout ?? ''}${e.stderr ?? ''}`,
    );
  }
  writeFileSync(p.libsStamp, hash);
}

function javaArgs(options: BrokerOptions, main: string, ...args: string[]): string[] {
  const p = paths(options.dir, options.libs);
  const heap = options.heap ?? '1g';
  return [
    `-Xms${heap === '1g' ? '256m' : heap}`,
    `-Xmx${heap}`,
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    // Kafka 3 reads the reload4j file, Kafka 4 the Log4j 2 one; each ignores the other's.
    `-Dlog4j.configuration=file:${join(projectRoot(), 'local', 'kafka', 'log4j.properties')}`,
    `-Dlog4j2.configurationFile=${join(projectRoot(), 'local', 'kafka', 'log4j2.properties')}`,
    `-Dkafka.logs.file=${join(p.logs, 'server.log')}`,
    `-Dkafka.logs.dir=${p.logs}`,
    '-cp',
    `${p.libs}/*`,
    main,
    ...args,
  ];
}

export function newClusterId(): string {
  // Kafka's Uuid text form: 16 random bytes, base64url without padding, never starting with '-'.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

async function formatStorage(options: BrokerOptions): Promise<void> {
  const p = paths(options.dir);
  if (existsSync(join(p.data, 'meta.properties'))) return;
  options.say?.('Formatting KRaft storage...');
  try {
    await run(
      'java',
      javaArgs(
        options,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        options.clusterId ?? newClusterId(),
        '-c',
        p.properties,
        ...(options.formatArgs ?? []),
      ),
      {
        timeout: 120000,
      },
    );
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new LauncherError(`formatting the Kafka storage failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

const BROKER_COMMAND = 'kafka.Kafka';
const isBrokerProcess = (pid: number): boolean => isRunning(pid, BROKER_COMMAND);

/** Throws the what-to-install message unless Java 17+ is on PATH. */
export async function requireJava(options: BrokerOptions): Promise<void> {
  const major = await javaMajorVersion();
  if (major === null || major < 17) {
    const dockerHint = 'install Docker, or';
    throw new LauncherError(
      major === null
        ? `Neither a Docker engine nor Java was found: ${dockerHint} install Java 17+ (for example apt-get install openjdk-17-jre-headless maven), or set KAFKA_BROKERS to an existing cluster.`
        : `Java ${major} was found but Kafka ${kafkaVersion(options)} needs Java 17 or newer: ${dockerHint} install Java 17+, or set KAFKA_BROKERS.`,
    );
  }
}

async function startWithJava(options: BrokerOptions, brokers: string[]): Promise<void> {
  await requireJava(options);
  await resolveJars(options);
  await runNode(options, () => kafkaAnswers(brokers));
}

/**
 * Writes server.properties, formats the storage once, and runs one Kafka process in the background until
 * `ready` says it serves (the jars must be resolved). A process that exits or never gets ready is reported
 * with its log, and left neither running nor in the pid file.
 */
export async function runNode(options: BrokerOptions, ready: () => Promise<boolean>): Promise<void> {
  const p = paths(options.dir, options.libs);
  for (const dir of [options.dir, p.data, p.logs]) mkdirSync(dir, { recursive: true });
  writeFileSync(p.properties, serverProperties(options));
  await formatStorage(options);

  options.say?.(`Starting Kafka ${kafkaVersion(options)} (KRaft) on 127.0.0.1:${options.port}...`);
  const out = openSync(join(p.logs, 'stdout.log'), 'a');
  const child = spawn('java', javaArgs(options, 'kafka.Kafka', p.properties), {
    detached: true,
    stdio: ['ignore', out, out],
  });
  if (child.pid === undefined) throw new LauncherError('could not start java');
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  child.unref();
  writeFileSync(p.pid, String(child.pid));
  try {
    await waitUntil(ready, `127.0.0.1:${options.port}`, 120000, () => !exited, join(p.logs, 'server.log'));
  } catch (err) {
    if (!exited) process.kill(child.pid, 'SIGKILL');
    rmSync(p.pid, { force: true });
    throw err;
  }
}

/** Services of docker-compose.yml to run: the one broker, or the `cluster` profile's nodes. */
export interface ComposeServices {
  services: string[];
  profile?: string;
  /** Variables docker-compose.yml interpolates (the cluster's ports). */
  env?: Record<string, string>;
}

const SINGLE_NODE_COMPOSE: ComposeServices = { services: ['kafka'] };

function compose(services: ComposeServices, ...args: string[]): Promise<unknown> {
  const file = join(projectRoot(), 'docker-compose.yml');
  const profile = services.profile ? ['--profile', services.profile] : [];
  return run('docker', ['compose', '-f', file, ...profile, ...args, ...services.services], {
    timeout: 10 * 60 * 1000,
    env: {
      ...process.env,
      LOCAL_KAFKA_VERSION: process.env.LOCAL_KAFKA_VERSION || KAFKA_VERSION,
      ...services.env,
    },
  });
}

export async function startWithDocker(
  options: BrokerOptions,
  brokers: string[],
  services: ComposeServices = SINGLE_NODE_COMPOSE,
): Promise<void> {
  options.say?.(`Starting Kafka ${kafkaVersion(options)} with docker compose...`);
  try {
    await compose(services, 'up', '-d');
  } catch (err) {
    throw new LauncherError(
      `docker compose could not start Kafka: ${(err as { stderr?: string }).stderr ?? err}`,
    );
  }
  mkdirSync(options.dir, { recursive: true });
  writeFileSync(paths(options.dir).dockerMarker, JSON.stringify(services));
  await waitUntil(
    () => kafkaAnswers(brokers),
    brokers.join(','),
    120000,
    () => true,
    `docker compose logs ${services.services.join(' ')}`,
  );
}

/** Brings a broker up (or finds one) and returns where it answers. Idempotent. */
export async function startBroker(
  options: BrokerOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StartedBroker> {
  if (env.KAFKA_BROKERS) {
    const brokers = splitBrokers(env.KAFKA_BROKERS);
    if (!(await kafkaAnswers(brokers))) {
      throw new LauncherError(
        `KAFKA_BROKERS=${env.KAFKA_BROKERS} does not answer; check the addresses or unset it to start a local broker`,
      );
    }
    return { brokers, how: 'existing-cluster' };
  }
  const brokers = [`127.0.0.1:${options.port}`];
  if (await portAnswers(options.port)) {
    if (await kafkaAnswers(brokers)) return { brokers, how: 'reused' };
    throw new LauncherError(
      `127.0.0.1:${options.port} is taken by something that is not a Kafka broker: stop it, or set LOCAL_KAFKA_PORT to another port`,
    );
  }
  if (options.allowDocker !== false && (await dockerEngineRuns())) {
    await startWithDocker(options, brokers);
    return { brokers, how: 'docker' };
  }
  await startWithJava(options, brokers);
  return { brokers, how: 'java' };
}

/** Stops what startBroker started; the data folder stays. Returns what it did. */
export async function stopBroker(options: BrokerOptions): Promise<'stopped' | 'not-running'> {
  const p = paths(options.dir);
  if (existsSync(p.dockerMarker)) {
    const marker = readFileSync(p.dockerMarker, 'utf8');
    // Markers written before the cluster profile hold a date: the one-broker service.
    await compose(
      marker.startsWith('{') ? (JSON.parse(marker) as ComposeServices) : SINGLE_NODE_COMPOSE,
      'stop',
    );
    rmSync(p.dockerMarker, { force: true });
    return 'stopped';
  }
  return stopByPidFile(p.pid, BROKER_COMMAND, 60000);
}

/** Kills the broker at once, as a crash would (`kafka:stop --node N --kill`, durability tests). */
export function killBroker(options: BrokerOptions): boolean {
  const pid = readPid(paths(options.dir).pid);
  if (pid === null || !isBrokerProcess(pid)) return false;
  process.kill(pid, 'SIGKILL');
  return true;
}
