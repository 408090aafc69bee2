/**
 * The local stand-in for one Lambda event source mapping: consumes a topic from the local broker in the
 * configured consumer group and invokes the function with Lambda-shaped batches. Offsets are committed only
 * after the function succeeded, so a failing batch is delivered again.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { KafkaEventDefinition } from './kafka-event-definition';
import { buildKafkaEvent } from './lambda-events/kafka-event';
import { sortedRoundRobin } from './partition-assigner';

export type Invoke = (event: unknown) => Promise<unknown>;

export interface SourceLog {
  notice(line: string): void;
  warning(line: string): void;
  error(line: string): void;
}

/** Retry delay after a failed invocation: 1 s doubling up to 10 s (the consumer keeps its heartbeat). */
export function retryDelayMs(attempt: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempt - 1), 10000);
}

export function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

export class KafkaEventSource {
  private consumer: Consumer | undefined;
  private readonly failures = new Map<number, number>();

  constructor(
    readonly definition: KafkaEventDefinition,
    private readonly kafka: Kafka,
    private readonly bootstrapServers: string[],
    private readonly invoke: Invoke,
    private readonly log: SourceLog,
  ) {}

  private get label(): string {
    return `Kafka [${this.definition.functionKey}]`;
  }

  async start(): Promise<void> {
    const { topic, consumerGroupId, maximumBatchingWindow, startingPosition } = this.definition;
    if (!this.definition.enabled) {
      this.log.notice(`${this.label} disabled (enabled: false): not polling ${topic}`);
      return;
    }
    const consumer = this.kafka.consumer({
      groupId: consumerGroupId,
      allowAutoTopicCreation: false,
      partitionAssigners: [sortedRoundRobin],
      maxWaitTimeInMs: Math.max(10, Math.round(maximumBatchingWindow * 1000)),
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const partitions = payload.memberAssignment[topic] ?? [];
      this.log.notice(
        `${this.label} joined group ${consumerGroupId}: ${topic} partitions [${[...partitions].sort((a, b) => a - b).join(', ')}]`,
      );
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: startingPosition !== 'LATEST' });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // One invocation at a time per partition, partitions in parallel, as Lambda's pollers do.
      partitionsConsumedConcurrently: 16,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    this.log.notice(
      `${this.label} consuming ${topic} as group ${consumerGroupId} (batchSize ${this.definition.batchSize})`,
    );
  }

  private async handleBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    for (const records of chunk<KafkaMessage>(batch.messages, this.definition.batchSize)) {
      if (!isRunning() || isStale()) return;
      const first = records[0]!.offset;
      const last = records[records.length - 1]!.offset;
      const event = buildKafkaEvent(this.definition, this.bootstrapServers, topic, partition, records);
      const range = `${topic}-${partition} offsets ${first}..${last}`;
      try {
        await this.invoke(event);
      } catch (err) {
        const attempt = (this.failures.get(partition) ?? 0) + 1;
        this.failures.set(partition, attempt);
        const delay = retryDelayMs(attempt);
        this.log.error(
          `${this.label} invocation failed for ${range} (attempt ${attempt}): ${(err as Error).message}; retrying in ${delay} ms`,
        );
        await heartbeat();
        await new Promise((r) => setTimeout(r, delay));
        // Deliver the same records again: nothing from here on was committed.
        this.consumer?.seek({ topic, partition, offset: first });
        return;
      }
      this.failures.delete(partition);
      await this.consumer?.commitOffsets([{ topic, partition, offset: String(Number(last) + 1) }]);
      resolveOffset(last);
      await heartbeat();
    }
  }

  /** Stops polling; an invocation in flight finishes and only what succeeded is committed. */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect();
  }
}
