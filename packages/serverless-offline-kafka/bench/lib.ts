/**
 * What the package's benchmark needs, kept inside the package so that it runs where the package is checked
 * out on its own: flags, a Markdown table, a timed child process, the broker to use.
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { Kafka, logLevel } from 'kafkajs';

/** --brokers=host:port[,...], else KAFKA_BROKERS, else 127.0.0.1:9092. */
export function benchBrokers(args: string[] = []): string[] {
  const given = args.find((a) => a.startsWith('--brokers='))?.slice('--brokers='.length);
  return (given || process.env.KAFKA_BROKERS || '127.0.0.1:9092')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}

export function benchKafka(brokers: string[], clientId: string): Kafka {
  return new Kafka({ clientId, brokers, connectionTimeout: 3000, logLevel: logLevel.NOTHING });
}

/** True when a broker answers a metadata request within a few seconds. */
export async function brokerAnswers(brokers: string[]): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'bench-probe',
    brokers,
    connectionTimeout: 2000,
    retry: { retries: 1 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** --name=N, a positive whole number, or the fallback. */
export function flag(args: string[], name: string, fallback: number): number {
  const found = args.find((a) => a.startsWith(`--${name}=`));
  const value = found ? Number(found.split('=')[1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive whole number`);
  return value;
}

/** Thousands separators for rates and counts. */
export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A Markdown table: the first row is the header. */
export function table(rows: Array<Array<string | number>>): string {
  const text = rows.map((r) => r.map(String));
  const widths = text[0]!.map((_, i) => Math.max(...text.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(text[0]!),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...text.slice(1).map(line),
  ].join('\n');
}

export interface LineCount {
  exitCode: number | null;
  seconds: number;
  /** Lines the command printed on stdout (counted as they arrive, not kept). */
  lines: number;
  /** The last 2,000 characters of stderr. */
  stderr: string;
}

/** Runs a command to its end (at most `timeoutMs`, 10 min), timing it and counting the lines it prints. */
export function countLines(command: string, args: string[], timeoutMs = 600000): Promise<LineCount> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const deadline = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let lines = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    });
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    child.once('error', (err) => {
      clearTimeout(deadline);
      reject(new Error(`${command} could not run: ${err.message}`));
    });
    child.once('close', (exitCode) => {
      clearTimeout(deadline);
      resolve({ exitCode, seconds: Number(process.hrtime.bigint() - started) / 1e9, lines, stderr });
    });
  });
}

/** One line naming the machine and its load, printed beside the figures. */
export function machineLine(): string {
  const cpu = cpus();
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
  return `machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}; node ${process.version}; load average ${load}`;
}
