/**
 * The local stand-in for one Lambda event source mapping: one kafkajs consumer in the configured group
 * fetches the topic and hands each assigned partition's records to its own poller (partition-poller.ts),
 * which batches, invokes and commits; records given up go to the failure destination
 * (failure-destination.ts). This file is the consumer: the group, assignments and starting positions,
 * pausing and commits on the pollers' behalf (and a rejoin when they stall), the invocation itself, and the
 * stop.
 */
import type { MSKRecord } from 'aws-lambda';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { FailureDestination, type FailureDestinationOptions } from './failure-destination';
import { flowBound, type FlowBound } from './flow-bound';
import type { KafkaEventDefinition } from './kafka-event-definition';
import { invocationLine, invokeWithTimeout } from './invocation';
import { eventOf } from './lambda-events/kafka-event';
import { PartitionPoller, type PartitionFlow, type PollerHost } from './partition-poller';
import { sortedRoundRobin } from './partition-assigner';
import type { SourceLog } from './plugin-support';

export type Invoke = (event: unknown) => Promise<unknown>;

export type { SourceLog } from './plugin-support';
export type { PartitionFlow } from './partition-poller';
export { parseKafkaEventDefinition, type KafkaEventDefinition } from './kafka-event-definition';

/** The failure destination's settings (deadLetterTopic, functionArn, failureHeaders), and the source's own. */
export interface SourceOptions extends Omit<FailureDestinationOptions, 'retryBaseDelayMs'> {
  /** First retry delay; doubles per attempt up to 10 s. Lambda's own backoff is not documented. */
  retryBaseDelayMs?: number;
  /** Records held per partition before its fetching pauses (two batches, and never fewer). */
  maxBufferedRecords?: number;
  /** Bytes of keys, values and headers held per partition before its fetching pauses (6 MiB). */
  maxBufferedBytes?: number;
  /** Most bytes one fetch brings for one partition (1 MiB). */
  fetchBytesPerPartition?: number;
  /** How long a commit may stay unanswered before the consumer rejoins its group (COMMIT_STALL_MS). */
  commitStallMs?: number;
}

/**
 * The longest a fetch waits (see start()). At 500 ms, batches of 100 (paused at 200 records held, below one
 * fetch's worth) were delivered at 18,000 records/s by the package's benchmark, most of it spent asleep.
 */
const FETCH_WAIT_MAX_MS = 100;

/**
 * How long a commit may stay unanswered, or commits be refused, before the consumer leaves and joins its
 * group again. kafkajs 2.2.4 sends commits to the coordinator broker its offset manager was given at the
 * last completed join and finds that broker again only by its node id. When the group's coordinator moves
 * without a completed rejoin (a rejoin whose JoinGroup or SyncGroup failed leaves heartbeats on the new
 * coordinator and commits on the old one), commits are refused until the group is joined again: at once
 * ("Broker N not found in the cached metadata") while the old broker is down, and after about a minute of
 * kafkajs's own retries ("not the correct coordinator") once it is back. Joining asks the cluster for the
 * coordinator afresh. A healthy commit takes milliseconds; kafkajs's own rejoin after a move (a heartbeat
 * refused) takes a few seconds.
 */
export const COMMIT_STALL_MS = 10000;

export class KafkaEventSource implements PollerHost {
  private consumer: Consumer | undefined;
  readonly destination: FailureDestination;
  private pollers = new Map<number, PartitionPoller>();
  private stopping = false;
  /** Partitions without a committed offset and where the starting position puts them (first join only). */
  private readonly startPositions = new Map<number, string>();
  /** Starting positions applied, to be recorded for the group once the consumer runs. */
  private startCommits: Array<{ partition: number; offset: number }> = [];
  readonly retryBaseDelayMs: number;
  private readonly commitStallMs: number;
  /** What one partition may hold before its fetching pauses (see flow-bound.ts). */
  readonly bound: FlowBound;
  private readonly bootstrap: string;
  /** Completed joins of the group (GROUP_JOIN events): a rejoin is asked for once per join at most. */
  private joins = 0;
  private rejoinedAfterJoin = -1;
  private rejoining: Promise<void> | undefined;
  /** When the commits refused since the last accepted one (or the last join) began to be refused. */
  private refusedSince: number | undefined;
  /** From a rejoin's leave to the next join: kafkajs has no group to pause partitions in. */
  private outOfGroup = false;
  /**
   * kafkajs crashed and restarts the consumer itself (a new join, which finds the coordinator afresh). A stop
   * while that restart is joining would not reach it, and the restart would go on beside a second run.
   */
  private restartingItself = false;
  /** Rejoins this source asked for because commits stalled. */
  rejoinsForCommits = 0;

  constructor(
    readonly definition: KafkaEventDefinition,
    private readonly kafka: Kafka,
    bootstrapServers: string[],
    private readonly invoke: Invoke,
    readonly log: SourceLog,
    options: SourceOptions = {},
  ) {
    this.bootstrap = bootstrapServers.join(',');
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 1000;
    this.commitStallMs = options.commitStallMs ?? COMMIT_STALL_MS;
    this.bound = flowBound(definition.batchSize, options);
    this.destination = new FailureDestination(definition, kafka, log, {
      ...options,
      retryBaseDelayMs: this.retryBaseDelayMs,
    });
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
      // How long the broker may hold a fetch that finds nothing new, and how long kafkajs sleeps when every
      // partition of the consumer is paused at its flow bound: a resumed partition waits up to this long for
      // its next fetch, whatever the batching window (which the pollers apply themselves).
      maxWaitTimeInMs: Math.min(
        FETCH_WAIT_MAX_MS,
        Math.max(10, Math.round(this.definition.maximumBatchingWindow * 1000)),
      ),
      // A fetch brings at most fetchBytesPerPartition per partition (kafkajs's floor for a whole response is 5 MiB).
      maxBytes: Math.max(5 * 1024 * 1024, this.bound.fetchBytesPerPartition),
      maxBytesPerPartition: this.bound.fetchBytesPerPartition,
      readUncommitted: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.joins++;
      this.refusedSince = undefined;
      this.outOfGroup = false;
      this.restartingItself = false;
      const partitions = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
      this.onAssignment(partitions);
      this.log.notice(
        `${this.label} joined group ${consumerGroupId}: ${topic} partitions [${partitions.join(', ')}]`,
      );
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.restartingItself = payload.restart;
    });
    // Batches that held only control records or aborted transactions never reach eachBatch.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic === topic && payload.batchSize === 0 && !this.stopping) {
        this.pollerFor(payload.partition).accept([], Number(payload.lastOffset));
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: startingPosition !== 'LATEST' });
    await this.run(consumer);
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

  private run(consumer: Consumer): Promise<void> {
    return consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: async (payload) => this.onBatch(payload),
    });
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

  /** While the consumer rejoins it has no group to pause in; the next generation starts with none paused. */
  pausePartition(partition: number): void {
    if (this.outOfGroup) return;
    this.consumer?.pause([{ topic: this.definition.topic, partitions: [partition] }]);
  }

  resumePartition(partition: number): void {
    if (this.outOfGroup) return;
    this.consumer?.resume([{ topic: this.definition.topic, partitions: [partition] }]);
  }

  /**
   * Commits for a poller. A commit unanswered for commitStallMs, or commits refused for that long (none
   * accepted in between), make the consumer rejoin its group.
   */
  async commit(partition: number, offset: number): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) throw new Error('the consumer is stopped');
    const { topic } = this.definition;
    const joins = this.joins;
    const what = `${topic}-${partition}@${offset}`;
    const stall = setTimeout(
      () => this.rejoin(joins, `a commit of ${what} unanswered for ${this.commitStallMs / 1000} s`),
      this.commitStallMs,
    );
    try {
      await consumer.commitOffsets([{ topic, partition, offset: String(offset) }]);
      this.refusedSince = undefined;
    } catch (err) {
      const now = Date.now();
      this.refusedSince ??= now;
      if (now - this.refusedSince >= this.commitStallMs) {
        const seconds = ((now - this.refusedSince) / 1000).toFixed(1);
        this.rejoin(joins, `commits refused for ${seconds} s (${what}: ${(err as Error).message})`);
      }
      throw err;
    } finally {
      clearTimeout(stall);
    }
  }

  /**
   * Leaves the group and joins it again, which finds the group's coordinator afresh: unless a join completed
   * since the stalled commit began (kafkajs rejoined on its own), kafkajs is restarting the consumer after a
   * crash, or this join was rejoined already. The
   * pollers stop as at a new generation: an invocation in flight finishes, and what was not committed is
   * delivered again to whichever member the new generation gives the partition.
   */
  private rejoin(joinsSeen: number, why: string): void {
    const consumer = this.consumer;
    if (!consumer || this.stopping || this.rejoining || this.restartingItself) return;
    if (this.joins !== joinsSeen || this.rejoinedAfterJoin === joinsSeen) return;
    this.rejoinedAfterJoin = joinsSeen;
    this.rejoinsForCommits++;
    const { consumerGroupId } = this.definition;
    this.log.warning(
      `${this.label} ${why}: rejoining group ${consumerGroupId} to find its coordinator again`,
    );
    for (const poller of this.pollers.values()) poller.stop();
    this.outOfGroup = true;
    this.rejoining = (async () => {
      await consumer.stop();
      if (!this.stopping) await this.run(consumer);
    })()
      .catch((err: Error) =>
        this.log.error(`${this.label} could not rejoin group ${consumerGroupId}: ${err.message}`),
      )
      .finally(() => {
        this.rejoining = undefined;
      });
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
    const { outcome, error, durationMs } = await invokeWithTimeout(this.invoke, event, timeout);
    const line = invocationLine({
      functionKey,
      group: consumerGroupId,
      topic,
      partition,
      firstOffset: messages[0]!.offset,
      lastOffset: messages[messages.length - 1]!.offset,
      count: messages.length,
      durationMs,
      outcome,
      attempt,
      error,
    });
    if (outcome === 'ok') this.log.notice(line);
    else this.log.error(line);
    return outcome === 'ok' ? undefined : (error ?? outcome);
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
    await this.rejoining;
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect();
    await this.destination.close();
  }
}
