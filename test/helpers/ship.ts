/** Runs the built shipper CLI (dist/tools/ship/cli.js) as a child process, as a user would, and reads its topic. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { KafkaMessage } from 'kafkajs';
import { SHIPPER_NODE_FLAGS } from '../../tools/ship/node-flags';
import { ROOT } from './fixtures';
import { testKafka, uniqueName } from './kafka';
import { waitFor } from './wait';

export const SHIP_CLI = join(ROOT, 'dist', 'tools', 'ship', 'cli.js');

export interface ShipperProcess {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

export function runShipper(args: string[], env: NodeJS.ProcessEnv = {}): ShipperProcess {
  const child = spawn(process.execPath, [...SHIPPER_NODE_FLAGS, SHIP_CLI, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exit };
}

/** Runs the shipper to completion: exit code and everything it printed. */
export async function shipOnce(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; output: string }> {
  const run = runShipper(args, env);
  const code = await run.exit;
  return { code, output: run.output() };
}

/** Follows a topic from its beginning, keeping every record, until stop(). */
export async function topicCollector(
  topic: string,
): Promise<{ messages: KafkaMessage[]; stop: () => Promise<void> }> {
  const consumer = testKafka().consumer({ groupId: uniqueName('ship-reader'), maxWaitTimeInMs: 100 });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      messages.push(message);
    },
  });
  return { messages, stop: () => consumer.disconnect() };
}

/** Distinct values and duplicates among the records, by the raw line they carry. */
export function tally(messages: KafkaMessage[]): { distinct: Set<string>; duplicates: number } {
  const distinct = new Set<string>();
  for (const m of messages) distinct.add((JSON.parse(m.value!.toString()) as { raw: string }).raw);
  return { distinct, duplicates: messages.length - distinct.size };
}

export async function waitForOutput(run: ShipperProcess, pattern: RegExp, what: string): Promise<void> {
  await waitFor(
    () =>
      pattern.test(run.output()) ||
      (run.child.exitCode !== null ? Promise.reject(new Error(`shipper exited: ${run.output()}`)) : false),
    what,
    30000,
    50,
  );
}
