/**
 * The local stand-in for one Lambda event source mapping. One kafkajs consumer in the configured group
 * fetches the topic; every assigned partition gets its own poller that gathers records until batchSize or
 * maximumBatchingWindow is reached, invokes the function with one Lambda-shaped batch at a time (records
 * of a partition in order, never two invocations of one partition at once, partitions in parallel), and
 * commits the partition's offset only after the batch succeeded, was filtered out, or was handed to the
 * on-failure destination. A failing batch is retried with backoff as Lambda's error handling says.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MSKRecord } from 'aws-lambda';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { DEFAULTS } from '../shared/config';
import { filterView, matchesAny } from './filter-pattern';
import { flowBound, mayResume, mustPause, type FlowBound } from './flow-bound';
import type { KafkaEventDefinition } from './kafka-event-definition';
import { eventOf, lambdaRecord, splitByPayload } from './lambda-events/kafka-event';
import {
  destinationMessages,
  onFailureRecord,
  type FailureCondition,
} from './lambda-events/on-failure-record';
import { sortedRoundRobin } from './partition-assigner';
import type { SourceLog } from './plugin-support';

export type Invoke = (event: unknown) => Promise<unknown>;

export type { SourceLog } from './plugin-support';

export interface SourceOptions {
  /** The topic that SNS/SQS on-failure destinations stand for locally (the project's dead-letter topic). */
  deadLetterTopic?: string;
  /** First retry delay; doubles per attempt up to 10 s. Lambda's own backoff is not documented. */
  retryBaseDelayMs?: number;
  /** Records held per partition before its fetching pauses (two batches, and never fewer). */
  maxBufferedRecords?: number;
  /** Bytes of keys, values and headers held per partition before its fetching pauses (6 MiB). */
  maxBufferedBytes?: number;
  /** Most bytes one fetch brings for one partition (1 MiB). */
  fetchBytesPerPartition?: number;
  /** ARN used in failure documents; a local placeholder by default. */
  functionArn?: string;
}

/** Retry delay after a failed invocation: doubling from `baseMs` (1 s) up to 10 s. */
export function retryDelayMs(attempt: number, baseMs = 1000): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 10000);
}

/** What one partition holds between fetching and invoking, and whether its fetching is paused. */
export interface PartitionFlow {
  partition: number;
  bufferedRecords: number;
  bufferedBytes: number;
  /** As the consumer itself has it (the state its fetches obey). */
  paused: boolean;
  /** Times fetching was paused and resumed since the partition was assigned. */
  pauses: number;
  resumes: number;
}

export type Outcome = 'ok' | 'error' | 'timeout';

/** One line per invocation, in the manner of serverless-offline's own `(λ: fn)` lines. */
export function invocationLine(i: {
  functionKey: string;
  group: string;
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  count: number;
  durationMs: number;
  outcome: Outcome;
  attempt: number;
  error?: string;
}): string {
  const status =
    i.outcome === 'ok'
      ? 'OK'
      : `${i.outcome === 'timeout' ? 'TIMEOUT' : 'ERROR'} (attempt ${i.attempt}): ${i.error ?? ''}`;
  return (
    `(λ: ${i.functionKey}) Kafka group ${i.group}  ${i.topic}-${i.partition} ` +
    `offsets ${i.firstOffset}..${i.lastOffset}  ${i.count} record${i.count === 1 ? '' : 's'}  ` +
    `Duration: ${i.durationMs.toFixed(2)} ms  ${status}`
  );
}

class TimeoutError extends Error {}

function sizeOf(message: KafkaMessage): number {
  let bytes = (message.value?.length ?? 0) + (message.key?.length ?? 0);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    bytes += name.length;
    for (const v of Array.isArray(value) ? value : [value]) bytes += v?.length ?? 0;
  }
  return bytes;
}

/** The records of one partition between fetching and a successful (or given-up) invocation. */
/** The longest pause between two tries of a commit that failed. */
const COMMIT_PAUSE_MAX_MS = 5000;

class PartitionPoller {
  private readonly buffer: KafkaMessage[] = [];
  private readonly arrivedAt: number[] = [];
  private bufferedBytes = 0;
  /** Last offset fetched from the partition, control records and filtered-out records included. */
  private fetchedThrough = -1;
  private committed = -1;
  private wanted = -1;
  private commitInFlight: Promise<void> | undefined;
  private busy = false;
  private kickAgain = false;
  private continueNow = false;
  private timer: NodeJS.Timeout | undefined;
  private paused = false;
  private pauses = 0;
  private resumes = 0;
  private readonly halt = new AbortController();
  /** Settles when no invocation of this poller is running any more. */
  loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly source: KafkaEventSource,
    readonly partition: number,
    private readonly previous: Promise<void>,
  ) {}

  private get def(): KafkaEventDefinition {
    return this.source.definition;
  }

  get halted(): boolean {
    return this.halt.signal.aborted;
  }

  accept(messages: KafkaMessage[], lastOffset: number): void {
    const now = Date.now();
    const { filterPatterns } = this.def;
    for (const message of messages) {
      const offset = Number(message.offset);
      if (offset <= this.fetchedThrough) continue;
      if (filterPatterns.length > 0 && !matchesAny(filterPatterns, filterView(message.value))) continue;
      this.buffer.push(message);
      this.arrivedAt.push(now);
      this.bufferedBytes += sizeOf(message);
    }
    this.fetchedThrough = Math.max(this.fetchedThrough, lastOffset);
    if (!this.paused && mustPause(this.source.bound, this.buffer.length, this.bufferedBytes)) {
      this.paused = true;
      this.pauses++;
      this.source.pausePartition(this.partition);
    }
    this.kick();
  }

  flow(paused: boolean): PartitionFlow {
    return {
      partition: this.partition,
      bufferedRecords: this.buffer.length,
      bufferedBytes: this.bufferedBytes,
      paused,
      pauses: this.pauses,
      resumes: this.resumes,
    };
  }

  kick(): void {
    if (this.halted) return;
    if (this.busy) {
      this.kickAgain = true;
      return;
    }
    this.busy = true;
    this.kickAgain = false;
    this.loop = this.run()
      .catch((err: unknown) => {
        this.source.log.error(
          `Kafka [${this.def.functionKey}] poller of ${this.def.topic}-${this.partition} failed: ${(err as Error).message}`,
        );
      })
      .finally(() => {
        this.busy = false;
        if (this.kickAgain) this.kick();
      });
  }

  /** Stops starting invocations; one in flight still completes (and commits unless revoked). */
  stop(): void {
    clearTimeout(this.timer);
    this.halt.abort();
  }

  private readyInMs(): number {
    if (this.continueNow || this.buffer.length >= this.def.batchSize) return 0;
    const windowMs = this.def.maximumBatchingWindow * 1000;
    return Math.max(0, this.arrivedAt[0]! + windowMs - Date.now());
  }

  private async run(): Promise<void> {
    clearTimeout(this.timer);
    await this.previous;
    while (!this.halted) {
      if (this.buffer.length === 0) {
        this.commit();
        return;
      }
      const wait = this.readyInMs();
      if (wait > 0) {
        this.timer = setTimeout(() => this.kick(), wait);
        return;
      }
      const batch = this.buffer.slice(0, this.def.batchSize);
      const records = batch.map((m) => lambdaRecord(this.def.topic, this.partition, m));
      const parts = splitByPayload(records);
      this.continueNow = parts.length > 1;
      const first = parts[0]!;
      const done = await this.deliver(batch.slice(0, first.length), first, 0);
      for (const m of this.buffer.splice(0, done)) this.bufferedBytes -= sizeOf(m);
      this.arrivedAt.splice(0, done);
      if (this.source.revoked(this)) return;
      // What was handled is committed even when the rest was abandoned (a stop during a bisected batch).
      if (done > 0) this.commit();
      if (done < first.length) return;
      if (this.paused && mayResume(this.source.bound, this.buffer.length, this.bufferedBytes)) {
        this.paused = false;
        this.resumes++;
        this.source.resumePartition(this.partition);
      }
    }
  }

  /**
   * Commits the position after everything handled: the first record still waiting, else what was fetched.
   * Commits do not hold up the next invocation; while one is on its way, later positions coalesce into
   * the next one, so the group's offset only ever moves to positions that were handled.
   */
  private commit(): void {
    if (this.source.revoked(this)) return;
    const position = this.buffer.length > 0 ? Number(this.buffer[0]!.offset) : this.fetchedThrough + 1;
    if (position <= 0 || position <= this.wanted) return;
    this.wanted = position;
    this.commitInFlight ??= this.flushCommits().finally(() => {
      this.commitInFlight = undefined;
    });
  }

  /**
   * A failed commit (the group coordinator moving to another broker, say) is tried again after a pause, up
   * to COMMIT_PAUSE_MAX_MS apart, until it succeeds, the partition is revoked or the poller stops: waiting
   * for the next batch would leave the group's offset behind for good once traffic stops.
   */
  private async flushCommits(): Promise<void> {
    let failures = 0;
    while (this.wanted > this.committed && !this.source.revoked(this)) {
      const target = this.wanted;
      try {
        await this.source.commit(this.partition, target);
        this.committed = target;
        failures = 0;
      } catch (err) {
        const retry = !this.halted;
        this.source.log.warning(
          `Kafka [${this.def.functionKey}] could not commit ${this.def.topic}-${this.partition}@${target}: ${(err as Error).message}; ` +
            (retry ? 'trying again' : 'the records will be delivered again'),
        );
        if (!retry) return;
        const pause = Math.min(COMMIT_PAUSE_MAX_MS, 250 * 2 ** failures++);
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  /** Whether this poller has asked for a commit: the group's position is its business from then on. */
  get committing(): boolean {
    return this.wanted >= 0;
  }

  /** Settles when no invocation runs and no commit is on its way. */
  async settled(): Promise<void> {
    await this.loop;
    await this.commitInFlight;
  }

  /**
   * Invokes until the records are handled or given up; returns how many of them (from the front) are
   * done. Fewer than all means the rest were abandoned by a stop or a rebalance, and stay uncommitted.
   */
  private async deliver(
    messages: KafkaMessage[],
    records: MSKRecord[],
    priorInvokes: number,
  ): Promise<number> {
    const { errorHandling } = this.def;
    let attempts = 0;
    for (;;) {
      if (this.halted) return 0;
      if (errorHandling.maximumRecordAgeInSeconds >= 0) {
        const oldest = Math.min(...messages.map((m) => Number(m.timestamp)));
        if (Date.now() - oldest > errorHandling.maximumRecordAgeInSeconds * 1000) {
          return this.giveUp(
            'RecordAgeExceeded',
            messages,
            priorInvokes + attempts,
            'record older than maximumRecordAgeInSeconds',
          );
        }
      }
      attempts += 1;
      const error = await this.source.invokeBatch(this.partition, messages, records, attempts);
      if (error === undefined) return messages.length;
      if (errorHandling.bisectBatchOnFunctionError && messages.length > 1) {
        const half = Math.ceil(messages.length / 2);
        const a = await this.deliver(
          messages.slice(0, half),
          records.slice(0, half),
          priorInvokes + attempts,
        );
        if (a < half) return a;
        const b = await this.deliver(messages.slice(half), records.slice(half), priorInvokes + attempts);
        return a + b;
      }
      if (errorHandling.maximumRetryAttempts >= 0 && attempts > errorHandling.maximumRetryAttempts) {
        return this.giveUp('RetryAttemptsExhausted', messages, priorInvokes + attempts, error);
      }
      try {
        await sleep(retryDelayMs(attempts, this.source.retryBaseDelayMs), undefined, {
          signal: this.halt.signal,
        });
      } catch {
        return 0;
      }
    }
  }

  /** Hands the records to the on-failure destination (until that works) or reports them dropped. */
  private async giveUp(
    condition: FailureCondition,
    messages: KafkaMessage[],
    invokeCount: number,
    error: string,
  ): Promise<number> {
    const written = await this.source.sendToDestination(
      condition,
      this.partition,
      messages,
      invokeCount,
      error,
      this.halt.signal,
    );
    return written ? messages.length : 0;
  }
}

export class KafkaEventSource {
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private pollers = new Map<number, PartitionPoller>();
  private stopping = false;
  /** Partitions without a committed offset and where the starting position puts them (first join only). */
  private readonly startPositions = new Map<number, string>();
  /** Starting positions applied, to be recorded for the group once the consumer runs. */
  private startCommits: Array<{ partition: number; offset: number }> = [];
  readonly retryBaseDelayMs: number;
  /** What one partition may hold before its fetching pauses (see flow-bound.ts). */
  readonly bound: FlowBound;
  private readonly bootstrap: string;

  constructor(
    readonly definition: KafkaEventDefinition,
    private readonly kafka: Kafka,
    bootstrapServers: string[],
    private readonly invoke: Invoke,
    readonly log: SourceLog,
    private readonly options: SourceOptions = {},
  ) {
    this.bootstrap = bootstrapServers.join(',');
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 1000;
    this.bound = flowBound(definition.batchSize, options);
  }

  private get label(): string {
    return `Kafka [${this.definition.functionKey}]`;
  }

  async start(): Promise<void> {
    const { topic, consumerGroupId, startingPosition } = this.definition;
    if (!this.definition.enabled) {
      this.log.notice(`${this.label} disabled (enabled: false): not polling ${topic}`);
      return;
    }
    await this.findStartingPositions();
    const consumer = this.kafka.consumer({
      groupId: consumerGroupId,
      allowAutoTopicCreation: false,
      partitionAssigners: [sortedRoundRobin],
      maxWaitTimeInMs: Math.min(500, Math.max(10, Math.round(this.definition.maximumBatchingWindow * 1000))),
      // A fetch brings at most fetchBytesPerPartition per partition (kafkajs's floor for a whole response is 5 MiB).
      maxBytes: Math.max(5 * 1024 * 1024, this.bound.fetchBytesPerPartition),
      maxBytesPerPartition: this.bound.fetchBytesPerPartition,
      readUncommitted: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const partitions = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
      this.onAssignment(partitions);
      this.log.notice(
        `${this.label} joined group ${consumerGroupId}: ${topic} partitions [${partitions.join(', ')}]`,
      );
    });
    // Batches that held only control records or aborted transactions never reach eachBatch.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic === topic && payload.batchSize === 0 && !this.stopping) {
        this.pollerFor(payload.partition).accept([], Number(payload.lastOffset));
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: startingPosition !== 'LATEST' });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: async (payload) => this.onBatch(payload),
    });
    // Recorded for the group at once (kafkajs commits only once running), so a restart before the first
    // record resumes from the same position rather than applying LATEST or AT_TIMESTAMP again.
    const applied = this.startCommits;
    this.startCommits = [];
    for (const { partition, offset } of applied) {
      if (this.pollers.get(partition)?.committing) continue; // it has moved on already
      await this.commit(partition, offset).catch((err: Error) =>
        this.log.warning(
          `${this.label} could not record the starting position of partition ${partition}: ${err.message}`,
        ),
      );
    }
    this.log.notice(
      `${this.label} consuming ${topic} as group ${consumerGroupId} (batchSize ${this.definition.batchSize}, ` +
        `window ${this.definition.maximumBatchingWindow} s)`,
    );
  }

  /**
   * Lambda applies the starting position only to partitions the group has no committed offset for. Those
   * partitions and their positions are found before joining, and the consumer seeks to them when it is
   * first assigned them (before its first fetch), so the position does not depend on when that fetch
   * happens (kafkajs would resolve LATEST only then).
   */
  private async findStartingPositions(): Promise<void> {
    const { topic, consumerGroupId, startingPosition, startingPositionTimestamp } = this.definition;
    // kafkajs's fromBeginning already means "earliest where the group has no offset", whenever it resolves.
    if (startingPosition === 'TRIM_HORIZON') return;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId: consumerGroupId, topics: [topic] });
      const missing = (committed?.partitions ?? []).filter((p) => p.offset === '-1').map((p) => p.partition);
      if (missing.length === 0) return;
      const positions =
        startingPosition === 'AT_TIMESTAMP'
          ? await admin.fetchTopicOffsetsByTimestamp(topic, (startingPositionTimestamp ?? 0) * 1000)
          : (await admin.fetchTopicOffsets(topic)).map((p) => ({
              partition: p.partition,
              offset: startingPosition === 'LATEST' ? p.high : p.low,
            }));
      for (const p of positions) {
        if (missing.includes(p.partition)) this.startPositions.set(p.partition, p.offset);
      }
    } finally {
      await admin.disconnect();
    }
  }

  /** A new generation of the group: pollers of the old one finish their invocation but commit nothing. */
  private onAssignment(partitions: number[]): void {
    const old = this.pollers;
    this.pollers = new Map();
    for (const poller of old.values()) poller.stop();
    for (const partition of partitions) {
      this.pollers.set(
        partition,
        new PartitionPoller(this, partition, old.get(partition)?.loop ?? Promise.resolve()),
      );
    }
    if (partitions.length === 0) return;
    const { topic } = this.definition;
    this.consumer?.resume([{ topic, partitions }]);
    for (const partition of partitions) {
      const offset = this.startPositions.get(partition);
      if (offset === undefined) continue;
      this.consumer?.seek({ topic, partition, offset });
      this.startCommits.push({ partition, offset: Number(offset) });
    }
    this.startPositions.clear();
  }

  private pollerFor(partition: number): PartitionPoller {
    let poller = this.pollers.get(partition);
    if (!poller) {
      poller = new PartitionPoller(this, partition, Promise.resolve());
      this.pollers.set(partition, poller);
    }
    return poller;
  }

  revoked(poller: PartitionPoller): boolean {
    return this.pollers.get(poller.partition) !== poller;
  }

  private async onBatch({ batch }: EachBatchPayload): Promise<void> {
    if (this.stopping || batch.topic !== this.definition.topic) return;
    this.pollerFor(batch.partition).accept(batch.messages, Number(batch.lastOffset()));
  }

  /** What each assigned partition holds right now, and whether the consumer has its fetching paused. */
  flow(): PartitionFlow[] {
    const { topic } = this.definition;
    const paused = new Set(this.consumer?.paused().find((p) => p.topic === topic)?.partitions ?? []);
    return [...this.pollers.values()].map((p) => p.flow(paused.has(p.partition)));
  }

  pausePartition(partition: number): void {
    this.consumer?.pause([{ topic: this.definition.topic, partitions: [partition] }]);
  }

  resumePartition(partition: number): void {
    this.consumer?.resume([{ topic: this.definition.topic, partitions: [partition] }]);
  }

  async commit(partition: number, offset: number): Promise<void> {
    if (!this.consumer) throw new Error('the consumer is stopped');
    await this.consumer.commitOffsets([{ topic: this.definition.topic, partition, offset: String(offset) }]);
  }

  /** One invocation, with the function's timeout; returns the error message, or undefined on success. */
  async invokeBatch(
    partition: number,
    messages: KafkaMessage[],
    records: MSKRecord[],
    attempt: number,
  ): Promise<string | undefined> {
    const { topic, functionKey, consumerGroupId, timeout } = this.definition;
    const event = eventOf(this.definition, this.bootstrap, topic, partition, records);
    const started = process.hrtime.bigint();
    let timer: NodeJS.Timeout | undefined;
    let outcome: Outcome = 'ok';
    let error: string | undefined;
    try {
      await Promise.race([
        this.invoke(event),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new TimeoutError(`Task timed out after ${timeout.toFixed(2)} seconds`)),
            timeout * 1000,
          );
        }),
      ]);
    } catch (err) {
      outcome = err instanceof TimeoutError ? 'timeout' : 'error';
      error = err instanceof Error ? err.message : String(err);
    } finally {
      clearTimeout(timer);
    }
    const line = invocationLine({
      functionKey,
      group: consumerGroupId,
      topic,
      partition,
      firstOffset: messages[0]!.offset,
      lastOffset: messages[messages.length - 1]!.offset,
      count: messages.length,
      durationMs: Number(process.hrtime.bigint() - started) / 1e6,
      outcome,
      attempt,
      error,
    });
    if (outcome === 'ok') this.log.notice(line);
    else this.log.error(line);
    return outcome === 'ok' ? undefined : (error ?? outcome);
  }

  /**
   * Writes given-up records to the on-failure destination, retrying until it works or the source stops.
   * Without a destination Lambda drops them; locally that is reported as an error line, never silently.
   */
  async sendToDestination(
    condition: FailureCondition,
    partition: number,
    messages: KafkaMessage[],
    invokeCount: number,
    error: string,
    signal: AbortSignal,
  ): Promise<boolean> {
    const { topic, functionKey, errorHandling } = this.definition;
    const range = `${topic}-${partition} offsets ${messages[0]!.offset}..${messages[messages.length - 1]!.offset}`;
    const destination = errorHandling.onFailure;
    if (!destination) {
      this.log.error(
        `${this.label} ${condition}: dropped ${messages.length} records (${range}) as Lambda does without an on-failure destination: ${error}`,
      );
      return true;
    }
    const target =
      destination.kind === 'kafka'
        ? destination.topic
        : (this.options.deadLetterTopic ?? DEFAULTS.deadLetterTopic);
    const failure = onFailureRecord({
      functionArn:
        this.options.functionArn ?? `arn:aws:lambda:us-east-1:000000000000:function:${functionKey}`,
      condition,
      invokeCount,
      error,
      topic,
      partition,
      messages,
    });
    for (let attempt = 1; ; attempt++) {
      try {
        if (!this.producer) {
          this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
          await this.producer.connect();
        }
        await this.producer.send({
          topic: target,
          acks: -1,
          messages: destinationMessages(failure, messages),
        });
        this.log.error(
          `${this.label} ${condition}: sent ${messages.length} records (${range}) to the on-failure destination ${target}: ${error}`,
        );
        return true;
      } catch (err) {
        this.log.error(
          `${this.label} could not write ${range} to the on-failure destination ${target}: ${(err as Error).message}; retrying`,
        );
        try {
          await sleep(retryDelayMs(attempt, this.retryBaseDelayMs), undefined, { signal });
        } catch {
          return false;
        }
      }
    }
  }

  /**
   * Stops polling: no new invocation starts, a backoff wait ends, an invocation in flight finishes (within
   * the function's timeout) and is committed if it succeeded; then the consumer leaves its group.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const pollers = [...this.pollers.values()];
    for (const poller of pollers) poller.stop();
    await Promise.allSettled(pollers.map((p) => p.settled()));
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect();
    await this.producer?.disconnect();
    this.producer = undefined;
  }
}
