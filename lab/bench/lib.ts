/** What every benchmark shares: the machine line, side-by-side tables, peak memory of a child process. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { promisify } from 'node:util';
import { KAFKA_VERSION, kafkaAnswers } from '../../local/kafka/launcher';
import { defaultRedisOptions, redisAnswers } from '../../local/redis/launcher';
import { loadConfig } from '../../shared/config';
import { measureCommand, type ChildRun } from '../load/command';
import { table } from '../../tools/common/table';

export { measureCommand, table, type ChildRun };

const run = promisify(execFile);

async function versionOf(command: string, args: string[], pattern: RegExp): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { timeout: 10000 });
    return `${stdout}${stderr}`.match(pattern)?.[1] ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

/** The 1, 5 and 15 minute load averages: benchmarks on a shared machine print them beside their figures. */
export function loadAverage(): string {
  return `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')}`;
}

/** One paragraph naming the machine and the versions that the figures depend on. */
export async function machineDescription(): Promise<string> {
  const cpu = cpus();
  const java = await versionOf('java', ['-version'], /version "([^"]+)"/);
  return [
    `machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `node ${process.version}, java ${java}, Kafka ${KAFKA_VERSION} (local broker, one node)`,
    loadAverage(),
  ].join('; ');
}

export async function printMachine(): Promise<void> {
  console.log(`# Benchmarks\n\n${await machineDescription()}`);
}

/** Thousands separators for rates and counts. */
export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export interface Timed extends ChildRun {
  /** User + system CPU seconds of the command itself, from GNU time; null when /usr/bin/time is missing. */
  cpuSeconds: number | null;
}

const GNU_TIME = '/usr/bin/time';

/** Runs the command under GNU time when installed (CPU seconds and peak RSS of the command itself). */
export async function timed(what: string, command: string, args: string[]): Promise<Timed> {
  const withTime = existsSync(GNU_TIME);
  const run = withTime
    ? await measureCommand(GNU_TIME, ['-f', 'nks-time %e %U %S %M', command, ...args])
    : await measureCommand(command, args);
  if (run.exitCode !== 0) throw new Error(`${what} exited with ${run.exitCode}: ${run.stderr.slice(-2000)}`);
  const m = / *nks-time ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(run.stderr);
  if (!m) return { ...run, cpuSeconds: null };
  return { ...run, cpuSeconds: Number(m[2]) + Number(m[3]), peakRssMiB: Number(m[4]) / 1024 };
}

/** GoAccess over a combined-format log, writing its JSON report: the reference for the analytics. */
export function runGoAccess(log: string, report: string): Promise<Timed> {
  return timed('goaccess', 'goaccess', [log, '--log-format=COMBINED', '--no-progress', '-o', report]);
}

/** The version of GoAccess installed, or 'unknown'. */
export function goAccessVersion(): Promise<string> {
  return versionOf('goaccess', ['--version'], /GoAccess - (\d+(?:\.\d+)+)/);
}

export function flag(args: string[], name: string, fallback: number): number {
  const found = args.find((a) => a.startsWith(`--${name}=`));
  const value = found ? Number(found.split('=')[1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive whole number`);
  return value;
}

/** KAFKA_BROKERS, else the local broker on LOCAL_KAFKA_PORT, else the configured default. */
export function benchBrokers(): string[] {
  if (!process.env.KAFKA_BROKERS && process.env.LOCAL_KAFKA_PORT) {
    return [`127.0.0.1:${process.env.LOCAL_KAFKA_PORT}`];
  }
  return loadConfig().brokers;
}

/** The broker and Redis a benchmark of the running local stack uses; an error saying how to start them if not. */
export async function runningBrokerAndRedis(): Promise<{ brokers: string[]; redisUrl: string }> {
  const brokers = benchBrokers();
  if (!(await kafkaAnswers(brokers))) {
    throw new Error(`no Kafka broker answers at ${brokers.join(',')}: start it with npm run kafka:start`);
  }
  const { url: redisUrl } = defaultRedisOptions();
  if (!(await redisAnswers(redisUrl))) {
    throw new Error(`no Redis answers at ${redisUrl}: start it with npm run redis:start`);
  }
  return { brokers, redisUrl };
}
