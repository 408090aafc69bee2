/**
 * The shipper's truth when its broker crashes: a checkpoint never passes a line the broker did not store,
 * and after the broker is killed with -9 mid-ship and started again, the shipper goes on by itself (no
 * restart of the process) and every line of the file is in Kafka — the records carry the raw line, the
 * dead letters the original bytes — counted against the file itself, not against what the shipper says.
 * The broker is the test's own (own port, own data folder), never the shared test broker.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafka } from '../../shared/kafka/client';
import { loadRdkafka, SHIP_CLIENTS } from '../../tools/ship/kafka-clients';
import { fixtureLines } from '../helpers/fixtures';
import { createTopics, uniqueName } from '../helpers/kafka';
import { restartableBroker, type RestartableBroker } from '../helpers/restartable-broker';
import { runShipper, type ShipperProcess } from '../helpers/ship';
import { waitFor } from '../helpers/wait';

jest.setTimeout(240000);

const LINES = 50000;
const BATCH = 1000;

let broker: RestartableBroker;
let dir: string;
let shipper: ShipperProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ship-crash-'));
  broker = await restartableBroker();
});

afterAll(async () => {
  if (shipper && shipper.child.exitCode === null) shipper.child.kill('SIGKILL');
  await broker?.remove();
  rmSync(dir, { recursive: true, force: true });
});

const REQUEST = /"([A-Z]+) (\S+) (HTTP\/[\d.]+)"/;

/** Real nginx lines (those with a request line), each made distinct by a counter in its request target. */
function distinctLines(count: number): string[] {
  const real = fixtureLines('nginx/real-nginx-1.22.log').filter((l) => REQUEST.test(l));
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const line = real[i % real.length]!;
    lines.push(
      line.replace(
        /"([A-Z]+) (\S+) (HTTP\/[\d.]+)"/,
        (_, method: string, target: string, protocol: string) => {
          const sep = target.includes('?') ? '&' : '?';
          return `"${method} ${target}${sep}n=${i} ${protocol}"`;
        },
      ),
    );
  }
  return lines;
}

/**
 * The raw lines stored in the topic (from the records) and the dead-letter topic (the original bytes), read
 * until every line of `wanted` was seen (or 90 s passed: the caller's comparison then names the missing
 * ones). Not a count: with several batches in flight the topic may hold more lines than the checkpoint
 * covers, and a count would be reached before a slower partition was read.
 */
async function storedLines(
  brokers: string[],
  topic: string,
  dlq: string,
  wanted: string[],
): Promise<string[]> {
  const consumer = createKafka({ brokers, clientId: 'ship-crash-reader' }).consumer({
    groupId: uniqueName('ship-crash-reader'),
    maxWaitTimeInMs: 100,
  });
  const seen: string[] = [];
  const distinct = new Set<string>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic, dlq], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const value = m.value!.toString();
          const line = batch.topic === topic ? (JSON.parse(value) as { raw: string }).raw : value;
          seen.push(line);
          distinct.add(line);
        }
      },
    });
    await waitFor(
      () => distinct.size >= wanted.length && wanted.every((l) => distinct.has(l)),
      `${wanted.length} lines stored (have ${distinct.size} distinct)`,
      90000,
      250,
    ).catch(() => undefined);
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

function checkpointOffset(file: string): number {
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { entries: Array<{ offset: number }> };
    return saved.entries[0]?.offset ?? 0;
  } catch {
    return 0; // not written yet (it is replaced atomically, so never half-written)
  }
}

// rdkafka where @confluentinc/kafka-javascript was built on install (elsewhere the shipper would use kafkajs).
const CLIENTS = SHIP_CLIENTS.filter((c) => c !== 'rdkafka' || typeof loadRdkafka() !== 'string');

it.each(CLIENTS)(
  '%s: kill -9 of the broker mid-ship: the checkpoint covers only stored lines, and after a restart every line is stored',
  async (client) => {
    const topic = uniqueName(`ship-crash-${client}`);
    const dlq = `${topic}-dlq`;
    await createTopics([{ topic }, { topic: dlq, partitions: 1 }], broker.brokers);

    const lines = distinctLines(LINES);
    expect(new Set(lines).size).toBe(LINES);
    const log = join(dir, `${client}.log`);
    const text = `${lines.join('\n')}\n`;
    writeFileSync(log, text);
    const checkpoint = join(dir, `${client}.checkpoint.json`);

    shipper = runShipper(
      [
        log,
        '--checkpoint-file',
        checkpoint,
        '--batch-size',
        String(BATCH),
        '--client',
        client,
        '--no-progress',
      ],
      {
        KAFKA_BROKERS: broker.brokers.join(','),
        KAFKA_TOPIC: topic,
        KAFKA_DLQ_TOPIC: dlq,
      },
    );
    // Freeze the shipper as soon as it has a checkpoint, so that the broker dies while lines are still to go.
    await waitFor(() => checkpointOffset(checkpoint) > 0, 'the first acknowledged batch', 60000, 20);
    shipper.child.kill('SIGSTOP');
    await broker.kill();
    shipper.child.kill('SIGCONT');
    // kafkajs retries inside the client for up to about a minute before the shipper sees the failure;
    // librdkafka keeps retrying and the shipper reports each 10 s without an acknowledgement.
    const running = shipper;
    await waitFor(
      () => /ship\.send_retry/.test(running.output()),
      'the shipper to find the broker gone',
      120000,
    );

    // While the broker is down nothing can be acknowledged: what the checkpoint covers now must be stored.
    shipper.child.kill('SIGSTOP');
    const covered = checkpointOffset(checkpoint);
    expect(covered).toBeGreaterThan(0);
    expect(covered).toBeLessThan(Buffer.byteLength(text));
    const coveredLines = Buffer.from(text).subarray(0, covered).toString().split('\n').slice(0, -1);
    await broker.start();
    const storedBefore = new Set(await storedLines(broker.brokers, topic, dlq, coveredLines));
    expect(coveredLines.filter((l) => !storedBefore.has(l))).toEqual([]);

    // The same process goes on once the broker is back, and finishes the file.
    shipper.child.kill('SIGCONT');
    expect(await shipper.exit).toBe(0);
    expect(shipper.output()).toMatch(/ship\.send_retry/);
    expect(checkpointOffset(checkpoint)).toBe(Buffer.byteLength(text));

    const stored = await storedLines(broker.brokers, topic, dlq, lines);
    const distinct = new Set(stored);
    expect(lines.filter((l) => !distinct.has(l))).toEqual([]);
    expect(distinct.size).toBe(LINES);
    // Idempotence: a batch resent after the crash is written once. Reported, and bounded by one batch.
    const duplicates = stored.length - distinct.size;
    console.log(
      `ship-broker-crash (${client}): ${LINES} lines, ${stored.length} stored, ${duplicates} duplicates`,
    );
    expect(duplicates).toBeLessThanOrEqual(BATCH);
  },
);
