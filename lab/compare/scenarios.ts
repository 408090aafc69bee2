/**
 * The scenarios every broker runs, the same way: bulk throughput with order and loss checks, latency of
 * paced single records, redelivery of unacknowledged records to a consumer that restarts, and records
 * that wait in the broker across a broker restart. Waits are bounded by deadlines; a figure that did not
 * complete says so rather than hanging.
 */
import type { Broker, Channel, Delivery, Subscription, Wire } from './broker';
import { clientOf, nginxLines, parsedRecords } from './records';
import type { NativeResult } from './native';
import { duplicates, latencies, orderViolations } from './stats';

export interface ThroughputResult {
  records: number;
  /** Distinct records the consumer received within `waitSeconds` of the last send. */
  received: number;
  /** How long the consumer was given after the last record was sent. */
  waitSeconds: number;
  /**
   * When some did not arrive in time: how many of those a new consumer then read from the broker (delayed,
   * not lost), with the same limits. Absent when all arrived.
   */
  readLater?: number;
  seconds: number;
  perSecond: number;
  orderViolations: number;
  duplicates: number;
}
export interface LatencyResult {
  samples: number;
  received: number;
  p50: number;
  p99: number;
}
export interface RedeliveryResult {
  unacknowledged: number;
  redelivered: number;
}
export type RestartResult = { sent: number; survived: number } | { skipped: string };
export type NativeOutcome = NativeResult | { skipped: string };

export interface Results {
  throughput: ThroughputResult;
  latency: LatencyResult;
  redelivery: RedeliveryResult;
  restart: RestartResult;
  native: NativeOutcome;
}

export interface ScenarioSizes {
  records: number;
  latencySamples: number;
  latencyIntervalMs: number;
  redeliveryRecords: number;
  restartRecords: number;
}

export type Progress = (line: string) => void;

const CHUNK = 500;
/** How long the throughput consumer is given, after the last record was sent, to receive them all. */
const THROUGHPUT_WAIT_MS = 60000;
const WARM_UP_SEQ = -1;

export function wires(count: number, first = 0): Wire[] {
  return parsedRecords(nginxLines(count, first)).map((record, i) => ({
    seq: first + i,
    key: clientOf(first + i),
    body: JSON.stringify(record),
    sentAt: 0,
  }));
}

const stamp = (messages: Wire[]) => {
  const now = Date.now();
  for (const m of messages) m.sentAt = now;
  return messages;
};

async function until(condition: () => boolean, deadlineMs: number): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/**
 * Waits for the condition, or until nothing new has arrived for `idleMs` (counting from the start): how
 * long to wait for records that may never come.
 */
async function untilOrIdle(
  condition: () => boolean,
  count: () => number,
  deadlineMs: number,
  idleMs: number,
): Promise<void> {
  const end = Date.now() + deadlineMs;
  let last = count();
  let lastChange = Date.now();
  while (!condition() && Date.now() < end) {
    const now = count();
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > idleMs) {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Subscribes and waits until a warm-up record made the round trip, so joins and connects are not timed. */
async function readyConsumer(channel: Channel, onDelivery: (d: Delivery) => void): Promise<Subscription> {
  let warm = false;
  const subscription = await channel.subscribe((d, ack) => {
    ack();
    if (d.seq === WARM_UP_SEQ) warm = true;
    else onDelivery(d);
  });
  await channel.send(stamp(wires(1).map((w) => ({ ...w, seq: WARM_UP_SEQ }))));
  if (!(await until(() => warm, 60000))) {
    await subscription.close();
    throw new Error('the consumer did not receive a warm-up record within 60 s');
  }
  return subscription;
}

/** A three-partition channel with a ready consumer that collects every delivery (throughput, latency). */
async function listening(
  broker: Broker,
  name: string,
): Promise<{ channel: Channel; received: Delivery[]; subscription: Subscription }> {
  const channel = await broker.channel(name, { partitions: 3 });
  const received: Delivery[] = [];
  const subscription = await readyConsumer(channel, (d) => received.push(d));
  return { channel, received, subscription };
}

async function throughput(
  broker: Broker,
  sizes: ScenarioSizes,
  tag: string,
  progress: Progress,
): Promise<ThroughputResult> {
  const { channel, received, subscription } = await listening(broker, `${tag}-throughput`);
  const messages = wires(sizes.records);
  const started = Date.now();
  for (let i = 0; i < messages.length; i += CHUNK) {
    await channel.send(stamp(messages.slice(i, i + CHUNK)));
    progress(
      `throughput: sent ${Math.min(i + CHUNK, messages.length)}/${messages.length}, received ${received.length}`,
    );
  }
  const arrived = () => new Set(received.map((d) => d.seq)).size;
  await until(() => arrived() >= messages.length, THROUGHPUT_WAIT_MS);
  const last = received.length > 0 ? Math.max(...received.map((d) => d.receivedAt)) : Date.now();
  await subscription.close();
  const seconds = (last - started) / 1000;
  const result: ThroughputResult = {
    records: messages.length,
    received: arrived(),
    waitSeconds: THROUGHPUT_WAIT_MS / 1000,
    seconds,
    perSecond: received.length / seconds,
    orderViolations: orderViolations(received),
    duplicates: duplicates(received),
  };
  if (result.received < result.records) {
    const seen = new Set(received.map((d) => d.seq));
    result.readLater = await readMissing(channel, seen, result.records - result.received, progress);
  }
  return result;
}

/**
 * Records the throughput consumer did not get in time may still be in the broker: a new consumer on the
 * same channel counts how many of them it reads (until none has come for 10 s, at most the same wait).
 */
async function readMissing(
  channel: Channel,
  seen: Set<number>,
  count: number,
  progress: Progress,
): Promise<number> {
  const missing = (seq: number) => seq !== WARM_UP_SEQ && !seen.has(seq);
  const later = new Set<number>();
  const subscription = await channel.subscribe((d, ack) => {
    ack();
    if (missing(d.seq)) later.add(d.seq);
  });
  progress(
    `throughput: some records did not arrive within ${THROUGHPUT_WAIT_MS / 1000} s; reading what is left...`,
  );
  await untilOrIdle(
    () => later.size >= count,
    () => later.size,
    THROUGHPUT_WAIT_MS,
    10000,
  );
  await subscription.close();
  progress(`throughput: a new consumer read ${later.size} of the records that had not arrived`);
  return later.size;
}

async function latency(
  broker: Broker,
  sizes: ScenarioSizes,
  tag: string,
  progress: Progress,
): Promise<LatencyResult> {
  const { channel, received, subscription } = await listening(broker, `${tag}-latency`);
  for (const message of wires(sizes.latencySamples)) {
    await channel.send(stamp([message]));
    await new Promise((r) => setTimeout(r, sizes.latencyIntervalMs));
  }
  progress(`latency: ${sizes.latencySamples} records sent one at a time`);
  await until(() => received.length >= sizes.latencySamples, 30000);
  await subscription.close();
  return { samples: sizes.latencySamples, received: received.length, ...latencies(received) };
}

async function redelivery(
  broker: Broker,
  sizes: ScenarioSizes,
  tag: string,
  progress: Progress,
): Promise<RedeliveryResult> {
  const channel = await broker.channel(`${tag}-redelivery`, { partitions: 1 });
  const count = sizes.redeliveryRecords;
  const half = Math.floor(count / 2);
  const acknowledged = new Set<number>();
  let seen = 0;
  const first = await channel.subscribe((d, ack) => {
    seen++;
    if (acknowledged.size < half) {
      ack();
      acknowledged.add(d.seq);
    }
  });
  await channel.send(stamp(wires(count)));
  await untilOrIdle(
    () => seen >= count,
    () => seen,
    15000,
    3000,
  );
  await first.close();
  progress(`redelivery: first consumer acknowledged ${acknowledged.size} of ${seen} and stopped`);

  const again = new Set<number>();
  const second = await channel.subscribe((d, ack) => {
    ack();
    if (!acknowledged.has(d.seq)) again.add(d.seq);
  });
  await untilOrIdle(
    () => again.size >= count - acknowledged.size,
    () => again.size,
    20000,
    5000,
  );
  await second.close();
  return { unacknowledged: count - acknowledged.size, redelivered: again.size };
}

async function restart(
  broker: Broker,
  sizes: ScenarioSizes,
  tag: string,
  progress: Progress,
): Promise<RestartResult> {
  if (typeof broker.restart === 'string') return { skipped: broker.restart };
  const channel = await broker.channel(`${tag}-restart`, { partitions: 3 });
  const count = sizes.restartRecords;
  await channel.send(stamp(wires(count)));
  progress(`restart: ${count} records waiting; restarting the broker...`);
  await broker.restart();
  const survived = new Set<number>();
  const subscription = await channel.subscribe((d, ack) => {
    ack();
    survived.add(d.seq);
  });
  await untilOrIdle(
    () => survived.size >= count,
    () => survived.size,
    30000,
    8000,
  );
  await subscription.close();
  return { sent: count, survived: survived.size };
}

/** The same number of records through the broker's own tool; a tool that cannot run is reported, not fatal. */
async function native(broker: Broker, sizes: ScenarioSizes): Promise<NativeOutcome> {
  if (typeof broker.native === 'string') return { skipped: broker.native };
  try {
    return await broker.native(wires(sizes.records).map((w) => w.body));
  } catch (err) {
    return { skipped: `the tool failed: ${(err as Error).message.split('\n')[0]}` };
  }
}

export async function runScenarios(
  broker: Broker,
  sizes: ScenarioSizes,
  progress: Progress,
): Promise<Results> {
  const tag = `compare-${Date.now().toString(36)}`;
  const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    progress(`${name}...`);
    const result = await run();
    progress(`${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  };
  return {
    throughput: await step('throughput', () => throughput(broker, sizes, tag, progress)),
    latency: await step('latency', () => latency(broker, sizes, tag, progress)),
    redelivery: await step('redelivery', () => redelivery(broker, sizes, tag, progress)),
    restart: await step('restart', () => restart(broker, sizes, tag, progress)),
    native: await step('native tool', () => native(broker, sizes)),
  };
}
