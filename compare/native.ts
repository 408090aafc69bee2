/**
 * Each broker's capacity with its own tool, beside what a Node.js client gets from it: the same number of
 * records of the same size, sent persistently with the broker's acknowledgement and then read back, by
 * kcat (librdkafka) for Kafka, PerfTest for RabbitMQ and the `activemq producer` / `consumer` tasks for
 * ActiveMQ. Each tool runs as a child process timed from start to exit (the JVM tools' start-up included,
 * about a second; their own rates, printed by the tool, are reported when it prints one).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface NativeResult {
  /** The tool and how it was run, for the table's footnote. */
  tool: string;
  records: number;
  sendPerSecond: number;
  receivePerSecond: number;
  /** Records the reading side counted (the tool's own count). */
  received: number;
}

/** A broker's native measurement, or why there is none. */
export type NativeRun = ((bodies: string[]) => Promise<NativeResult>) | string;

export interface CommandRun {
  code: number | null;
  seconds: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (at most `timeoutMs`), timing it; stdout and stderr kept up to 1 MiB each. */
export function runTimed(
  command: string,
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const keep = (text: string, more: Buffer) => (text + more.toString()).slice(-1024 * 1024);
    child.stdout.on('data', (d: Buffer) => (stdout = keep(stdout, d)));
    child.stderr.on('data', (d: Buffer) => (stderr = keep(stderr, d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${command} could not run: ${err.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, seconds: Number(process.hrtime.bigint() - started) / 1e9, stdout, stderr });
    });
  });
}

/** The run, or an error naming the command and the end of what it printed. */
export function succeeded(what: string, run: CommandRun): CommandRun {
  if (run.code !== 0) {
    throw new Error(`${what} exited with ${run.code}: ${`${run.stderr}${run.stdout}`.trim().slice(-500)}`);
  }
  return run;
}

/** The mean size of the bodies in bytes: the JVM tools send generated bodies of this size. */
export function meanSize(bodies: string[]): number {
  const total = bodies.reduce((sum, b) => sum + Buffer.byteLength(b), 0);
  return Math.max(1, Math.round(total / Math.max(1, bodies.length)));
}

/**
 * The jars of a pom's dependencies, copied from Maven Central into `dir` once (again only when the pom
 * changes): the classpath of a JVM tool that is not installed on the machine.
 */
export async function mavenJars(pom: string, dir: string): Promise<string> {
  const stamp = join(dir, '.pom-sha256');
  const hash = createHash('sha256').update(readFileSync(pom)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return join(dir, '*');
  rmSync(dir, { recursive: true, force: true });
  succeeded(
    `mvn (fetching the jars of ${basename(pom)} from Maven Central)`,
    await runTimed('mvn', [
      '-q',
      '-B',
      '-f',
      pom,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${dir}`,
      '-DincludeScope=runtime',
    ]),
  );
  writeFileSync(stamp, hash);
  return join(dir, '*');
}
