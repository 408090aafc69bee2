/**
 * The event source's answer to commits that stall or are refused: kafkajs 2.2.4 keeps sending them to the
 * coordinator of the last completed join, so after the group's coordinator moved without a completed rejoin
 * every commit is refused at once (the old broker down) or goes unanswered (refused and retried inside
 * kafkajs) until the group is joined again. Here a stand-in consumer behaves that way; the test against a
 * real cluster whose coordinator moves is test/cluster/coordinator-move.test.ts at the repository's root.
 */
import { EventEmitter } from 'node:events';
import type { ConsumerRunConfig, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { parseKafkaEventDefinition } from '../../src/kafka-event-definition';
import { KafkaEventSource } from '../../src/kafka-event-source';
import type { SourceLog } from '../../src/plugin-support';
import { waitFor } from '../helpers/wait';

const TOPIC = 'logs';

/**
 * As kafkajs's consumer: joins on run(), and while `stale` its commits go unanswered or are refused; stop()
 * ends the run, which answers a commit still waiting with nothing (kafkajs's runner returns once it is not
 * running), and the next run's join finds the coordinator afresh.
 */
class StaleCoordinatorConsumer {
  readonly events = {
    GROUP_JOIN: 'consumer.group_join',
    END_BATCH_PROCESS: 'consumer.end_batch_process',
    CRASH: 'consumer.crash',
  };
  private readonly emitter = new EventEmitter();
  config: ConsumerRunConfig | undefined;
  stale = true;
  /** How a stale commit is answered: not at all, or refused at once (the old coordinator's broker is down). */
  staleCommits: 'unanswered' | 'refused' = 'unanswered';
  runs = 0;
  stops = 0;
  readonly committed: Array<{ partition: number; offset: string }> = [];
  private readonly unanswered: Array<() => void> = [];

  on(event: string, listener: (e: unknown) => void): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }
  async connect(): Promise<void> {}
  async subscribe(): Promise<void> {}
  async run(config: ConsumerRunConfig): Promise<void> {
    this.config = config;
    this.runs++;
    this.join();
  }
  /** A completed join of the group, which gives this member partition 0. */
  join(): void {
    this.emitter.emit(this.events.GROUP_JOIN, { payload: { memberAssignment: { [TOPIC]: [0] } } });
  }
  /**
   * kafkajs's crash, after which it restarts the consumer itself; a commit still waiting is answered with
   * nothing at its next try (answerWaiting), as a stopped runner does.
   */
  crash(): void {
    this.emitter.emit(this.events.CRASH, { payload: { error: new Error('crash'), restart: true } });
  }
  answerWaiting(): void {
    for (const answer of this.unanswered.splice(0)) answer();
  }
  async stop(): Promise<void> {
    this.stops++;
    this.config = undefined;
    this.stale = false;
    this.answerWaiting();
  }
  async disconnect(): Promise<void> {
    await this.stop();
  }
  commitOffsets(offsets: Array<{ partition: number; offset: string }>): Promise<void> {
    if (!this.config) return Promise.reject(new Error('Consumer group was not initialized'));
    if (this.stale && this.staleCommits === 'refused')
      return Promise.reject(new Error('Broker 3 not found in the cached metadata'));
    if (this.stale) return new Promise((resolve) => this.unanswered.push(resolve));
    this.committed.push(...offsets.map(({ partition, offset }) => ({ partition, offset })));
    return Promise.resolve();
  }
  pause(): void {}
  resume(): void {}
  paused(): Array<{ topic: string; partitions: number[] }> {
    return [];
  }
  seek(): void {}

  /** Hands the run's eachBatch the records at `offsets` of partition 0, as a fetch would. */
  async deliver(offsets: number[]): Promise<void> {
    const messages = offsets.map(
      (offset) =>
        ({
          key: null,
          value: Buffer.from(`record ${offset}`),
          timestamp: String(Date.now()),
          attributes: 0,
          offset: String(offset),
          headers: {},
        }) as KafkaMessage,
    );
    const last = String(offsets[offsets.length - 1]);
    await this.config!.eachBatch!({
      batch: { topic: TOPIC, partition: 0, messages, lastOffset: () => last },
    } as unknown as EachBatchPayload);
  }
}

function source(consumer: StaleCoordinatorConsumer, invoked: string[], warnings: string[]) {
  const definition = parseKafkaEventDefinition(
    'fn',
    'msk',
    { arn: 'arn:aws:kafka:local', topic: TOPIC, batchSize: 5, startingPosition: 'TRIM_HORIZON' },
    'group',
  );
  const kafka = { consumer: () => consumer } as unknown as Kafka;
  const log: SourceLog = {
    notice: () => undefined,
    warning: (line) => void warnings.push(line),
    error: (line) => void warnings.push(line),
  };
  return new KafkaEventSource(
    definition,
    kafka,
    ['127.0.0.1:9092'],
    async (event) => {
      const records = (event as { records: Record<string, Array<{ offset: number }>> }).records;
      for (const r of Object.values(records).flat()) invoked.push(String(r.offset));
    },
    log,
    { commitStallMs: 200 },
  );
}

describe('commits that stall', () => {
  it.each([
    ['a commit unanswered', 'unanswered', /logs-0@5 unanswered for 0.2 s: rejoining group group/],
    [
      'commits refused',
      'refused',
      /commits refused for 0\.\d s \(logs-0@5: Broker 3 not found.*: rejoining group group/,
    ],
  ] as const)(
    '%s for commitStallMs make the consumer leave and join its group again, after which the redelivered records are committed',
    async (_, staleCommits, warning) => {
      const consumer = new StaleCoordinatorConsumer();
      consumer.staleCommits = staleCommits;
      const invoked: string[] = [];
      const warnings: string[] = [];
      const s = source(consumer, invoked, warnings);
      await s.start();
      try {
        await consumer.deliver([0, 1, 2, 3, 4]);
        await waitFor(() => consumer.runs === 2, 'the consumer to join its group again');
        expect(consumer.stops).toBe(1);
        expect(consumer.committed).toEqual([]);
        expect(warnings.join('\n')).toMatch(warning);

        // The new generation fetches again from the group's committed offset: the batch comes again.
        await consumer.deliver([0, 1, 2, 3, 4]);
        await waitFor(() => consumer.committed.length > 0, 'the commit after the rejoin');
        expect(consumer.committed).toEqual([{ partition: 0, offset: '5' }]);
        expect(invoked).toEqual(['0', '1', '2', '3', '4', '0', '1', '2', '3', '4']);
        expect(s.rejoinsForCommits).toBe(1);
      } finally {
        await s.stop();
      }
    },
  );

  it.each([
    ['the group was joined again meanwhile (kafkajs rejoined on its own)', 'join'],
    ['kafkajs crashed and restarts the consumer itself', 'crash'],
  ] as const)('does not when %s', async (_, meanwhile) => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const consumer = new StaleCoordinatorConsumer();
    const invoked: string[] = [];
    const s = source(consumer, invoked, []);
    try {
      await s.start();
      await consumer.deliver([0, 1, 2, 3, 4]);
      await jest.advanceTimersByTimeAsync(50);
      expect(invoked).toHaveLength(5);
      consumer[meanwhile]();
      await jest.advanceTimersByTimeAsync(1000);
      expect(consumer.runs).toBe(1);
      expect(consumer.stops).toBe(0);
      expect(s.rejoinsForCommits).toBe(0);
    } finally {
      jest.useRealTimers();
      consumer.answerWaiting();
      await s.stop();
    }
  });
});
