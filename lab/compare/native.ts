/**
 * Each broker's capacity with its own tool, beside what a Node.js client gets from it: the same number of
 * records of the same size, sent persistently with the broker's acknowledgement and then read back, by
 * kcat (librdkafka) for Kafka, PerfTest for RabbitMQ and the `activemq producer` / `consumer` tasks for
 * ActiveMQ. Each tool runs as a child process timed from start to exit (the JVM tools' start-up included,
 * about a second; their own rates, printed by the tool, are reported when it prints one).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { measureCommand, type ChildRun } from '../load/command';

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

/** The run, or an error naming the command and the end of what it printed. */
export function succeeded(what: string, run: ChildRun): ChildRun {
  if (run.exitCode !== 0) {
    throw new Error(
      `${what} exited with ${run.exitCode}: ${`${run.stderr}${run.stdout}`.trim().slice(-500)}`,
    );
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
    await measureCommand('mvn', [
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
