/**
 * The local stand-in for one Lambda event source mapping: one kafkajs consumer in the configured group
 * fetches the topic and hands each assigned partition's records to its own poller (partition-poller.ts),
 * which batches, invokes and commits; records given up go to the failure destination
 * (failure-destination.ts). This file is the consumer: the group, assignments and starting positions,
 * pausing and commits on the pollers' behalf, the invocation itself, and the stop.
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
}

/**
 * The longest a fetch waits (see start()). At 500 ms, batches of 100 (paused at 200 records held, below one
 * fetch's worth) were delivered at 18,000 records/s by the package's benchmark, most of it spent asleep.
 */
const FETCH_WAIT_MAX_MS = 100;

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
  /** What one partition may hold before its fetching pauses (see flow-bound.ts). */
  readonly bound: FlowBound;
  private readonly bootstrap: string;

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
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect();
    await this.destination.close();
  }
}
