/**
 * `npm run bench -- pipeline [--sizes=100000,1000000] [--client=rdkafka]`: log to dashboard. A real-shaped access log is shipped
 * into the running local stack — `serverless offline` with every function of serverless.yml, on a topic,
 * groups and store prefix of the run's own — and timed until GET /stats counts every line; GoAccess reads
 * the same file in the same run. Prints both times, their ratio, where the pipeline's time went (shipping,
 * then draining; the analytics function's invocations, records per batch and time inside the handler) and
 * whether the totals agree. Needs the broker and Redis (`npm run kafka:start`, `npm run redis:start`);
 * LOCAL_KAFKA_PORT / KAFKA_BROKERS, REDIS_URL / LOCAL_REDIS_PORT, OFFLINE_HTTP_PORT and OFFLINE_LAMBDA_PORT
 * pick the ports.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isServerReady, startOffline } from '../demo/offline';
import { defaultBrokerOptions } from '../../local/kafka/launcher';
import { defaultRedisOptions } from '../../local/redis/launcher';
import { deleteKeysUnder } from '../../local/redis/keys';
import { readPid } from '../../local/common/pid-file';
import { projectRoot } from '../../local/common/project-root';
import type { TrafficStats } from '../../shared/analytics/stats';
import { createKafka } from '../../shared/kafka/client';
import { createRedis } from '../../shared/store/redis';
import { writeLog } from '../load/access-log';
import { runningBrokerAndRedis, count, goAccessVersion, loadAverage, runGoAccess, table } from './lib';
import type { Benchmark } from './run';
import { SHIP_CLIENTS, type ShipClientName } from '../../tools/ship/kafka-clients';
import { SHIPPER_NODE_FLAGS } from '../../tools/ship/node-flags';
import { isolatedStackEnv, parseInvocation } from '../load/stack';

const ROOT = projectRoot();
const SHIP_CLI = join(ROOT, 'dist', 'tools', 'ship', 'cli.js');
const MiB = 2 ** 20;
/** USER_HZ: the unit of /proc/<pid>/stat's CPU times on Linux. */
const CLOCK_TICKS = 100;

interface PipelineRun {
  /** From the shipper's start until GET /stats counted every line. */
  seconds: number;
  /** From the shipper's start until it exited (every line acknowledged by the broker). */
  shipSeconds: number;
  counted: number;
  validRequests: number;
  analytics: { invocations: number; records: number; handlerSeconds: number };
  /** CPU seconds (user + system, all threads) each process spent from the shipper's start to the end. */
  cpu: { offline: number; shipper: number; broker: number; redis: number };
}

/** User + system CPU seconds a process has used so far, all threads included; 0 once it is gone. */
function cpuSeconds(pid: number | null | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** `--client=<name>`: the shipper's Kafka client (its default when not given). */
function clientFlag(args: string[]): ShipClientName | undefined {
  const found = args.find((a) => a.startsWith('--client='))?.slice('--client='.length);
  if (found === undefined) return undefined;
  if (!(SHIP_CLIENTS as readonly string[]).includes(found)) {
    throw new Error(`--client must be one of ${SHIP_CLIENTS.join(', ')}, not ${found}`);
  }
  return found as ShipClientName;
}

function sizesFlag(args: string[]): number[] {
  const found = args.find((a) => a.startsWith('--sizes='));
  const sizes = (found?.slice('--sizes='.length) ?? '100000,1000000').split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`--sizes must be whole numbers separated by commas, not ${found}`);
  }
  return sizes;
}

async function statsTotals(url: string): Promise<TrafficStats['totals'] | undefined> {
  try {
    const response = await fetch(`${url}/stats?top=1&minutes=1`);
    return response.ok ? ((await response.json()) as TrafficStats).totals : undefined;
  } catch {
    return undefined;
  }
}

async function timePipeline(
  log: string,
  lines: number,
  brokers: string[],
  redisUrl: string,
  client: ShipClientName | undefined,
): Promise<PipelineRun> {
  const id = `pipeline-${randomUUID().slice(0, 8)}`;
  const env = isolatedStackEnv(id, brokers, redisUrl);
  const admin = createKafka({ brokers, clientId: 'pipeline-bench' }).admin();
  const analytics = { invocations: 0, records: 0, handlerSeconds: 0 };
  const offline = startOffline({
    cwd: ROOT,
    httpPort: Number(process.env.OFFLINE_HTTP_PORT || 3000),
    lambdaPort: Number(process.env.OFFLINE_LAMBDA_PORT || 3002),
    env: { ...env, LOG_LEVEL: 'warn' },
    keepLines: 200,
    onLine: (line) => {
      const i = parseInvocation(line);
      if (i?.functionKey !== 'analytics' || i.topic !== env.KAFKA_TOPIC || !i.ok) return;
      analytics.invocations++;
      analytics.records += i.count;
      analytics.handlerSeconds += i.durationMs / 1000;
    },
  });
  try {
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: env.KAFKA_TOPIC, numPartitions: 3 },
        { topic: env.KAFKA_DLQ_TOPIC, numPartitions: 1 },
        { topic: env.KAFKA_ALERTS_TOPIC, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
    await offline.waitFor(isServerReady, 180000, 'serverless offline to be ready');
    const brokerPid = readPid(join(defaultBrokerOptions().dir, 'broker.pid'));
    // A Redis this project did not start (no pid file) counts 0.
    const redisPid = readPid(join(defaultRedisOptions().dir, 'redis.pid'));
    const cpuAtStart = {
      offline: cpuSeconds(offline.child.pid),
      broker: cpuSeconds(brokerPid),
      redis: cpuSeconds(redisPid),
    };
    let shipperCpu = 0;
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    let shipSeconds: number | undefined;
    let shipFailure: string | undefined;
    let shipOutput = '';
    const shipArgs = [
      ...SHIPPER_NODE_FLAGS,
      SHIP_CLI,
      log,
      '--no-progress',
      ...(client ? ['--client', client] : []),
    ];
    const shipper = spawn(process.execPath, shipArgs, {
      cwd: ROOT,
      env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    shipper.stdout!.on('data', (d) => (shipOutput += d));
    shipper.stderr!.on('data', (d) => (shipOutput = (shipOutput + d).slice(-4000)));
    shipper.once('exit', (code) => {
      shipSeconds = elapsed();
      if (code !== 0) shipFailure = `the shipper exited with ${code}: ${shipOutput}`;
    });
    let totals: TrafficStats['totals'] | undefined;
    let lastSaid = 0;
    for (;;) {
      if (shipFailure) throw new Error(shipFailure);
      shipperCpu = Math.max(shipperCpu, cpuSeconds(shipper.pid));
      totals = await statsTotals(offline.url);
      const counted = totals?.totalRequests ?? 0;
      if (counted >= lines) break;
      if (elapsed() - lastSaid >= 10) {
        lastSaid = elapsed();
        console.error(
          `pipeline: ${elapsed().toFixed(0)} s  GET /stats counts ${count(counted)} of ${count(lines)}`,
        );
      }
      if (elapsed() > 3600)
        throw new Error(`GET /stats counted ${count(counted)} of ${count(lines)} after an hour`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = elapsed();
    const cpu = {
      offline: cpuSeconds(offline.child.pid) - cpuAtStart.offline,
      shipper: shipperCpu,
      broker: cpuSeconds(brokerPid) - cpuAtStart.broker,
      redis: cpuSeconds(redisPid) - cpuAtStart.redis,
    };
    if (shipper.exitCode === null) await new Promise((r) => shipper.once('exit', r));
    return {
      seconds,
      shipSeconds: shipSeconds ?? seconds,
      counted: totals!.totalRequests,
      validRequests: totals!.validRequests,
      analytics,
      cpu,
    };
  } finally {
    await offline.stop();
    await admin.disconnect();
    // The run's analytics and alerts stores (about 10 MB per 100,000 lines), once timed.
    const redis = createRedis(redisUrl);
    await deleteKeysUnder(redis, `${env.ANALYTICS_PREFIX}:`).finally(() => redis.disconnect());
  }
}

const bench: Benchmark = {
  title: 'log to dashboard: shipped into the local stack until GET /stats counts every line, vs GoAccess',
  async run(args) {
    const sizes = sizesFlag(args);
    const client = clientFlag(args);
    const { brokers, redisUrl } = await runningBrokerAndRedis();
    console.log(
      `GoAccess ${await goAccessVersion()} (--log-format=COMBINED, JSON report); ${loadAverage()}\n`,
    );
    const rows: Array<Array<string | number>> = [
      ['lines', 'MiB', 'tool', 'seconds', 'lines/s', '/ GoAccess time', 'valid requests'],
    ];
    const where: Array<Array<string | number>> = [
      [
        'lines',
        'shipping s',
        'draining s',
        'analytics invocations',
        'records / batch',
        'handler s',
        'CPU s: serverless offline',
        'shipper',
        'broker',
        'redis',
      ],
    ];
    let agree = true;
    for (const lines of sizes) {
      const dir = mkdtempSync(join(tmpdir(), 'nks-pipeline-bench-'));
      try {
        const log = join(dir, 'access.log');
        const mib = ((await writeLog(log, lines)) / MiB).toFixed(0);
        const go = await runGoAccess(log, join(dir, 'goaccess.json'));
        const goValid = (
          JSON.parse(readFileSync(join(dir, 'goaccess.json'), 'utf8')) as {
            general: { valid_requests: number };
          }
        ).general.valid_requests;
        console.error(`pipeline: ${count(lines)} lines; GoAccess took ${go.seconds.toFixed(1)} s; shipping`);
        const ours = await timePipeline(log, lines, brokers, redisUrl, client);
        agree &&= ours.validRequests === goValid && ours.counted === lines;
        rows.push(
          [
            count(lines),
            mib,
            `ship${client ? ` --client ${client}` : ''} → Kafka → analytics → GET /stats`,
            ours.seconds.toFixed(1),
            count(lines / ours.seconds),
            `${(ours.seconds / go.seconds).toFixed(1)} ×`,
            count(ours.validRequests),
          ],
          [
            count(lines),
            mib,
            'GoAccess',
            go.seconds.toFixed(1),
            count(lines / go.seconds),
            '1.0 ×',
            count(goValid),
          ],
        );
        const a = ours.analytics;
        where.push([
          count(lines),
          ours.shipSeconds.toFixed(1),
          Math.max(0, ours.seconds - ours.shipSeconds).toFixed(1),
          count(a.invocations),
          a.invocations ? (a.records / a.invocations).toFixed(0) : '–',
          a.handlerSeconds.toFixed(1),
          ours.cpu.offline.toFixed(1),
          ours.cpu.shipper.toFixed(1),
          ours.cpu.broker.toFixed(1),
          ours.cpu.redis.toFixed(1),
        ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    console.log(table(rows));
    console.log(`\nWhere the pipeline's time went (analytics group):\n\n${table(where)}`);
    console.log(`\n${loadAverage()}; totals ${agree ? 'agree with GoAccess' : 'DIFFER from GoAccess'}`);
    if (!agree) process.exitCode = 1;
  },
};

export = bench;
