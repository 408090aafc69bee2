/**
 * One soak of the running local stack: `serverless offline` with every function of serverless.yml (each
 * Kafka consumer group active, on a topic and groups of the soak's own), fed by the shipper with a
 * generated access log of real-shaped lines. Every few seconds it samples the resident set of every process
 * of the stack (serverless offline, the shipper, the broker, Redis) and their heaps (V8 heap of the Node.js
 * processes' main threads through lab/load/memory-probe, the JVM heap of the broker through jstat, Redis's
 * used_memory), and each group's lag. It counts, per consumer group, which offsets its functions handled
 * (from the event source's invocation lines): records handled, duplicates, and records never handled.
 * The log can be shipped in phases (say N lines, then 3N more), each handled by every group before the next
 * starts, so that memory after N records can be set beside memory after 4N. Used by `npm run bench -- soak`
 * and by the short soak in the test suite (test/e2e/soak-memory.test.ts).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import type { Admin } from 'kafkajs';
import { isServerReady, startOffline } from '../demo/offline';
import { defaultBrokerOptions } from '../../local/kafka/launcher';
import { readPid } from '../../local/common/pid-file';
import { projectRoot } from '../../local/common/project-root';
import { defaultRedisOptions } from '../../local/redis/launcher';
import { createKafka } from '../../shared/kafka/client';
import { SHIPPER_NODE_FLAGS } from '../../tools/ship/node-flags';
import { writeLog } from './access-log';
import { PROBE_PREFIX, type ProbeSample } from './memory-probe';
import { isolatedStackEnv, parseInvocation } from './stack';

const ROOT = projectRoot();
const SHIP_CLI = join(ROOT, 'dist', 'tools', 'ship', 'cli.js');
const MiB = 1024 * 1024;

export interface SoakOptions {
  /** Lines shipped per phase; each phase is handled by every group before the next one is shipped. */
  phases: number[];
  brokers: string[];
  redisUrl: string;
  httpPort: number;
  lambdaPort: number;
  /** Where the SNS functions' emulator listens (the stack starts it). */
  snsEndpoint?: string;
  sampleEveryMs?: number;
  /** How long the groups may take to handle everything once the shipper is done. */
  drainTimeoutMs?: number;
  /**
   * Start serverless offline with `--expose-gc` and collect garbage before each of its heap samples, so its
   * heap figure is what it still holds (slower; for comparing heaps, not for rates).
   */
  liveHeap?: boolean;
  /** Sample the broker's JVM heap with jstat (default true); jstat takes seconds on a loaded machine. */
  brokerHeap?: boolean;
  say?: (line: string) => void;
}

export interface ProcessMemory {
  rssMiB: number;
  /** Heap in use: V8 (main thread) for Node.js, the JVM's heap for the broker, used_memory for Redis. */
  heapMiB?: number;
}

export interface MemorySample {
  atMs: number;
  /** Index of the phase being shipped or handled. */
  phase: number;
  /** Share of the log that the slowest group has handled, 0..1. */
  progress: number;
  processes: Record<string, ProcessMemory>;
  /** Records produced but not yet committed, per group. */
  lag: Record<string, number>;
}

export interface GroupResult {
  group: string;
  functions: string[];
  handled: number;
  duplicates: number;
  missing: number;
  recordsPerSecond: number;
  maxLag: number;
}

/** serverless offline's main thread: V8 heap in use, memory outside it (Buffers), and the resident set. */
export interface OfflineMemory {
  heapMiB: number;
  /** Buffers and other memory V8 tracks outside its heap: fetched Kafka batches live here. */
  externalMiB: number;
  rssMiB: number;
}

/** serverless offline's memory over one phase: its peak, and once every group had handled the phase. */
export interface PhaseResult {
  lines: number;
  /** Records in the topic once every group had handled the phase (all phases so far). */
  produced: number;
  seconds: number;
  shipSummary: string;
  /** The main-thread sample of the phase with the most heap + external memory, and the phase's highest RSS. */
  peak: OfflineMemory;
  /** The first main-thread sample after every group had handled the phase. */
  settled: OfflineMemory;
  /** Largest lag of any group during the phase. */
  maxLag: number;
  /** Whether every group handled the phase within drainTimeoutMs. */
  drained: boolean;
}

export interface SoakResult {
  /** Lines shipped in all phases. */
  lines: number;
  /** Records in the topic when the soak ended (what each group had to handle). */
  produced: number;
  shipSummary: string;
  seconds: number;
  groups: GroupResult[];
  samples: MemorySample[];
  phases: PhaseResult[];
}

/** Offsets handled by one group, counted once each, with repeats counted apart. */
class GroupTally {
  readonly functions = new Set<string>();
  private readonly seen = new Map<number, Uint8Array>();
  handled = 0;
  duplicates = 0;
  firstAt = 0;
  lastAt = 0;

  mark(fn: string, partition: number, from: number, to: number): void {
    this.functions.add(fn);
    let bits = this.seen.get(partition);
    if (!bits || bits.length <= to) {
      const grown = new Uint8Array(Math.max(to + 1, (bits?.length ?? 0) * 2, 1024));
      if (bits) grown.set(bits);
      bits = grown;
      this.seen.set(partition, bits);
    }
    for (let o = from; o <= to; o++) {
      if (bits[o]) this.duplicates++;
      else {
        bits[o] = 1;
        this.handled++;
      }
    }
    const now = Date.now();
    this.firstAt ||= now;
    this.lastAt = now;
  }

  missing(ends: Map<number, number>): number {
    let missing = 0;
    for (const [partition, end] of ends) {
      const bits = this.seen.get(partition);
      for (let o = 0; o < end; o++) if (!bits?.[o]) missing++;
    }
    return missing;
  }
}

function rssMiB(pid: number | null | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The broker's JVM heap in use (survivor, eden and old generation), from `jstat -gc`. */
async function jvmHeapMiB(pid: number): Promise<number | undefined> {
  try {
    const { stdout } = await promisify(execFile)('jstat', ['-gc', String(pid)], { timeout: 15000 });
    const [head, values] = stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    const at = (name: string) => Number(values?.[head?.indexOf(name) ?? -1] ?? 0);
    return (at('S0U') + at('S1U') + at('EU') + at('OU')) / 1024;
  } catch {
    return undefined;
  }
}

async function topicEnds(admin: Admin, topic: string): Promise<Map<number, number>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((p) => [p.partition, Number(p.high)]));
}

async function lagOf(admin: Admin, group: string, topic: string, ends: Map<number, number>): Promise<number> {
  const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  let lag = 0;
  for (const p of committed?.partitions ?? []) {
    const end = ends.get(p.partition) ?? 0;
    lag += end - Math.max(0, Number(p.offset));
  }
  return lag;
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const say = options.say ?? (() => undefined);
  const lines = options.phases.reduce((a, b) => a + b, 0);
  const id = `soak-${randomUUID().slice(0, 8)}`;
  const topic = id;
  const groupNames = ['analytics', 'alerts', 'summarizers'].map((g) => `${id}-${g}`);
  const kafka = createKafka({ brokers: options.brokers, clientId: 'soak' });
  const admin = kafka.admin();
  const redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'soak-'));
  // The built probe (`npm run build`), also when this module runs from its TypeScript source in a test.
  const probe = `--require ${join(ROOT, 'dist', 'lab', 'load', 'memory-probe.js')}`;
  const tallies = new Map(groupNames.map((g) => [g, new GroupTally()]));
  const heaps = new Map<string, ProbeSample>();
  /** serverless offline's main-thread samples, in order (a few hundred bytes each, one per 2 s). */
  const offlineHeap: ProbeSample[] = [];
  const samples: MemorySample[] = [];
  const maxLag = new Map<string, number>();
  let shipper: ChildProcess | undefined;
  const offline = startOffline({
    cwd: ROOT,
    httpPort: options.httpPort,
    lambdaPort: options.lambdaPort,
    env: {
      ...isolatedStackEnv(id, options.brokers, options.redisUrl),
      LOG_LEVEL: 'warn',
      ...(options.snsEndpoint ? { SNS_ENDPOINT: options.snsEndpoint } : {}),
      NODE_OPTIONS:
        `${process.env.NODE_OPTIONS ?? ''} ${probe}${options.liveHeap ? ' --expose-gc' : ''}`.trim(),
      MEMORY_PROBE_MS: '2000',
      MEMORY_PROBE_GC: options.liveHeap ? '1' : '0',
    },
    keepLines: 200,
    onLine: (line) => {
      if (line.startsWith(PROBE_PREFIX)) {
        const s = JSON.parse(line.slice(PROBE_PREFIX.length)) as ProbeSample;
        if (s.thread === 0) {
          heaps.set('serverless offline', s);
          offlineHeap.push(s);
        }
        return;
      }
      const i = parseInvocation(line);
      if (i?.ok && i.topic === topic)
        tallies.get(i.group)?.mark(i.functionKey, i.partition, i.firstOffset, i.lastOffset);
    },
  });
  try {
    await admin.connect();
    await redis.connect();
    await admin.createTopics({
      topics: [
        { topic, numPartitions: 3 },
        { topic: `${id}-dlq`, numPartitions: 1 },
        { topic: `${id}-alerts`, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
    const logs: string[] = [];
    for (const [i, count] of options.phases.entries()) {
      const log = join(dir, `access-${i + 1}.log`);
      const bytes = await writeLog(log, count, 42 + i);
      logs.push(log);
      say(
        `soak ${id}: phase ${i + 1}: ${count.toLocaleString('en-US')} lines (${(bytes / MiB).toFixed(0)} MiB) in ${log}`,
      );
    }
    await offline.waitFor(isServerReady, 180000, 'serverless offline to be ready');
    say('soak: serverless offline is ready; shipping');

    const brokerPid = readPid(join(defaultBrokerOptions().dir, 'broker.pid'));
    const redisPid = readPid(join(defaultRedisOptions().dir, 'redis.pid'));
    const progress = () => Math.min(...[...tallies.values()].map((t) => t.handled)) / lines;
    const heapOf = (name: string) => {
      const h = heaps.get(name);
      return h ? h.heapUsed / MiB : undefined;
    };
    const started = Date.now();
    const shipSummaries: string[] = [];
    const phases: PhaseResult[] = [];
    const everyMs = options.sampleEveryMs ?? 3000;

    for (const [phase, log] of logs.entries()) {
      const phaseStarted = Date.now();
      const firstHeapSample = offlineHeap.length;
      let shipOutput = '';
      let shipped: number | null | undefined;
      shipper = spawn(process.execPath, [...SHIPPER_NODE_FLAGS, SHIP_CLI, log, '--no-progress'], {
        cwd: ROOT,
        env: {
          ...process.env,
          KAFKA_BROKERS: options.brokers.join(','),
          KAFKA_TOPIC: topic,
          KAFKA_DLQ_TOPIC: `${id}-dlq`,
          LOG_LEVEL: 'warn',
          NODE_OPTIONS: probe,
          MEMORY_PROBE_MS: '2000',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const onShipOutput = (data: Buffer) => {
        for (const line of data.toString().split('\n')) {
          if (line.startsWith(PROBE_PREFIX))
            heaps.set('shipper', JSON.parse(line.slice(PROBE_PREFIX.length)));
          else if (line.startsWith('ship:')) shipOutput += `${line}\n`;
        }
      };
      shipper.stdout!.on('data', onShipOutput);
      shipper.stderr!.on('data', onShipOutput);
      const shipperPid = shipper.pid;
      shipper.once('exit', (code) => (shipped = code));
      let phaseLag = 0;

      const sample = async (): Promise<{ lag: Record<string, number>; ends: Map<number, number> }> => {
        const ends = await topicEnds(admin, topic);
        const lag: Record<string, number> = {};
        for (const g of groupNames) {
          lag[g] = await lagOf(admin, g, topic, ends);
          maxLag.set(g, Math.max(maxLag.get(g) ?? 0, lag[g]!));
          phaseLag = Math.max(phaseLag, lag[g]!);
        }
        const info = await redis.info('memory').catch(() => '');
        const redisUsed = /used_memory:(\d+)/.exec(info)?.[1];
        const processes: Record<string, ProcessMemory> = {};
        const add = (name: string, rss: number | undefined, heap: number | undefined) => {
          if (rss !== undefined) processes[name] = { rssMiB: rss, heapMiB: heap };
        };
        add('serverless offline', rssMiB(offline.child.pid), heapOf('serverless offline'));
        if (shipped === undefined) add('shipper', rssMiB(shipperPid), heapOf('shipper'));
        if (brokerPid) {
          const jvmHeap = options.brokerHeap === false ? undefined : await jvmHeapMiB(brokerPid);
          add('broker (JVM)', rssMiB(brokerPid), jvmHeap);
        }
        add('redis-server', rssMiB(redisPid), redisUsed ? Number(redisUsed) / MiB : undefined);
        samples.push({ atMs: Date.now() - started, phase, progress: progress(), processes, lag });
        return { lag, ends };
      };

      let drainStarted: number | undefined;
      let drained = false;
      for (;;) {
        await new Promise((r) => setTimeout(r, everyMs));
        const { lag, ends } = await sample();
        const last = samples[samples.length - 1]!;
        say(
          `soak: ${(last.atMs / 1000).toFixed(0)} s  phase ${phase + 1}  handled ${(last.progress * 100).toFixed(1)} %  ` +
            `lag ${Object.values(lag).join(' / ')}  serverless offline RSS ${last.processes['serverless offline']?.rssMiB.toFixed(0)} MiB`,
        );
        if (shipped === undefined) continue;
        if (shipped !== 0) throw new Error(`the shipper exited with ${shipped}: ${shipOutput}`);
        drainStarted ??= Date.now();
        const total = [...ends.values()].reduce((a, b) => a + b, 0);
        drained =
          [...tallies.values()].every((t) => t.handled >= total) && Object.values(lag).every((l) => l === 0);
        if (drained) break;
        if (Date.now() - drainStarted > (options.drainTimeoutMs ?? 600000)) {
          say(`soak: the groups did not handle phase ${phase + 1} in time; reporting what they did`);
          break;
        }
      }
      // The first heap sample taken after the groups were done with the phase.
      const settledAt = Date.now();
      const probeLine = await offline.waitFor(
        (line) => {
          if (!line.startsWith(PROBE_PREFIX)) return false;
          const s = JSON.parse(line.slice(PROBE_PREFIX.length)) as ProbeSample;
          return s.thread === 0 && s.at > settledAt;
        },
        30000,
        'a heap sample of serverless offline',
      );
      const settled = JSON.parse(probeLine.slice(PROBE_PREFIX.length)) as ProbeSample;
      const during = offlineHeap.slice(firstHeapSample).filter((h) => h.at <= settled.at);
      const fullest = during.reduce((a, b) => (b.heapUsed + b.external > a.heapUsed + a.external ? b : a));
      const produced = [...(await topicEnds(admin, topic)).values()].reduce((a, b) => a + b, 0);
      shipSummaries.push(shipOutput.trim());
      phases.push({
        lines: options.phases[phase]!,
        produced,
        seconds: (Date.now() - phaseStarted) / 1000,
        shipSummary: shipOutput.trim(),
        peak: {
          heapMiB: fullest.heapUsed / MiB,
          externalMiB: fullest.external / MiB,
          rssMiB: Math.max(...during.map((h) => h.rss ?? 0)) / MiB,
        },
        settled: {
          heapMiB: settled.heapUsed / MiB,
          externalMiB: settled.external / MiB,
          rssMiB: (settled.rss ?? 0) / MiB,
        },
        maxLag: phaseLag,
        drained,
      });
      const { peak, settled: after } = phases[phase]!;
      say(
        `soak: phase ${phase + 1} handled by every group${drained ? '' : ' (NOT all)'}: serverless offline ` +
          `heap + external peak ${(peak.heapMiB + peak.externalMiB).toFixed(0)} MiB, ` +
          `after ${(after.heapMiB + after.externalMiB).toFixed(0)} MiB`,
      );
      if (!drained) break;
    }
    const seconds = (Date.now() - started) / 1000;
    const ends = await topicEnds(admin, topic);
    const produced = [...ends.values()].reduce((a, b) => a + b, 0);
    const groups = groupNames.map((group) => {
      const t = tallies.get(group)!;
      const span = Math.max(0.001, (t.lastAt - t.firstAt) / 1000);
      return {
        group,
        functions: [...t.functions].sort(),
        handled: t.handled,
        duplicates: t.duplicates,
        missing: t.missing(ends),
        recordsPerSecond: t.handled / span,
        maxLag: maxLag.get(group) ?? 0,
      };
    });
    return { lines, produced, shipSummary: shipSummaries.join('\n'), seconds, groups, samples, phases };
  } finally {
    if (shipper && shipper.exitCode === null) shipper.kill('SIGINT');
    await offline.stop();
    await admin.disconnect();
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The sample at which the slowest group had handled `share` of the log (the last one for 1). */
export function sampleAt(samples: MemorySample[], share: number): MemorySample | undefined {
  return share >= 1 ? samples[samples.length - 1] : samples.find((s) => s.progress >= share);
}

/** The highest resident set each process reached. */
export function peakRss(samples: MemorySample[]): Record<string, number> {
  const peak: Record<string, number> = {};
  for (const s of samples) {
    for (const [name, m] of Object.entries(s.processes)) peak[name] = Math.max(peak[name] ?? 0, m.rssMiB);
  }
  return peak;
}
