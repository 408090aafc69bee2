/**
 * One assigned partition of a Kafka event source: the records between fetching and a successful (or
 * given-up) invocation. It gathers records until batchSize or maximumBatchingWindow, invokes one batch at a
 * time in offset order, retries, bisects or gives up as the event's error handling says, pauses its
 * partition's fetching at the flow bound, and commits the position after what was handled.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MSKRecord } from 'aws-lambda';
import type { KafkaMessage } from 'kafkajs';
import { filterView, matchesAny } from './filter-pattern';
import { mayResume, mustPause, type FlowBound } from './flow-bound';
import type { KafkaEventDefinition } from './kafka-event-definition';
import { lambdaRecords, splitByPayload } from './lambda-events/kafka-event';
import type { FailureDestination } from './failure-destination';
import type { FailureCondition } from './lambda-events/on-failure-record';
import type { SourceLog } from './plugin-support';
import { retryDelayMs } from './retry-delay';

/** What a poller needs from the consumer that owns it. */
export interface PollerHost {
  readonly definition: KafkaEventDefinition;
  readonly bound: FlowBound;
  readonly log: SourceLog;
  readonly retryBaseDelayMs: number;
  /** Whether the poller no longer owns its partition (a new group generation, or a stop). */
  revoked(poller: PartitionPoller): boolean;
  pausePartition(partition: number): void;
  resumePartition(partition: number): void;
  commit(partition: number, offset: number): Promise<void>;
  /** One invocation; the error message, or undefined on success. */
  invokeBatch(
    partition: number,
    messages: KafkaMessage[],
    records: MSKRecord[],
    attempt: number,
  ): Promise<string | undefined>;
  /** Where given-up records go (failure-destination.ts). */
  readonly destination: Pick<FailureDestination, 'send'>;
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

function sizeOf(message: KafkaMessage): number {
  let bytes = (message.value?.length ?? 0) + (message.key?.length ?? 0);
  const headers = message.headers;
  for (const name in headers) {
    const value = headers[name];
    bytes += name.length;
    if (Array.isArray(value)) for (const v of value) bytes += v.length;
    else bytes += value?.length ?? 0;
  }
  return bytes;
}

/** The longest pause between two tries of a commit that failed. */
const COMMIT_PAUSE_MAX_MS = 5000;

/** The records of one partition between fetching and a successful (or given-up) invocation. */
export class PartitionPoller {
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
    private readonly source: PollerHost,
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
      const records = lambdaRecords(this.def.topic, this.partition, batch);
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
    const written = await this.source.destination.send(
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
