/**
 * Traffic and tallies for the failover tests: topics made as on MSK (replication factor 3,
 * min.insync.replicas 2), the ingest function driven by concurrent invocations, who leads which partition,
 * and what a topic holds, counted by the sequence number every line carries (lab/compare/records).
 */
import type { Context, MSKEvent } from 'aws-lambda';
import { parseKafkaEventDefinition } from 'serverless-offline-kafka/event-definition';
import { KafkaEventSource, type SourceLog } from 'serverless-offline-kafka/event-source';
import { deliveredRecords } from '../../shared/record/kafka-event';
import { clientOf, nginxLines } from '../../lab/compare/records';
import { sequenceOf } from '../helpers/workload';
import type { IngestResult } from '../../shared/ingest/ingest-lines';
import type { LineHandler } from '../../shared/ingest/line-handler';
import { decodeRecordValue } from '../../shared/record/contract';
import { loadConfig } from '../../shared/config';
import { sharedAtomicProducer } from '../../shared/kafka/atomic-producer';
import { brokers, testKafka, uniqueName, withAdmin } from '../helpers/kafka';
import { topicRecords } from '../helpers/producing';
import { settledRecordCount } from '../helpers/quiescence';
import { waitFor } from '../helpers/wait';
import { consumerLag } from '../../tools/lag/lag';
import { kafkaCli } from './environment';

export const PARTITIONS = 3;

/** A topic and its dead-letter topic, each with 3 replicas and min.insync.replicas 2. */
export async function clusterTopics(prefix: string): Promise<{ topic: string; deadLetterTopic: string }> {
  const topic = uniqueName(prefix);
  const deadLetterTopic = `${topic}-dlq`;
  await withAdmin((admin) =>
    admin.createTopics({
      topics: [topic, deadLetterTopic].map((t) => ({
        topic: t,
        numPartitions: t === topic ? PARTITIONS : 1,
        replicationFactor: 3,
        configEntries: [{ name: 'min.insync.replicas', value: '2' }],
      })),
      waitForLeaders: true,
    }),
  );
  return { topic, deadLetterTopic };
}

/**
 * Cluster topics of the test's own and the ingest function writing to them: loaded after KAFKA_TOPIC and
 * KAFKA_DLQ_TOPIC are set, since the function reads its configuration when loaded, as on Lambda.
 */
export async function ingestOnClusterTopics(
  prefix: string,
): Promise<{ topic: string; deadLetterTopic: string; handler: LineHandler }> {
  const topics = await clusterTopics(prefix);
  process.env.KAFKA_TOPIC = topics.topic;
  process.env.KAFKA_DLQ_TOPIC = topics.deadLetterTopic;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require('../../functions/ingest') as { handler: LineHandler };
  return { ...topics, handler };
}

/** Records the group has not committed yet, summed over the topic's partitions (tools/lag's rows). */
export async function groupLag(topic: string, groupId: string): Promise<number> {
  const rows = await withAdmin((admin) => consumerLag(admin, { groups: [groupId], topics: [topic] }));
  return rows.reduce((sum, row) => sum + row.lag, 0);
}

export interface PartitionState {
  partition: number;
  leader: number;
  isr: number[];
}

export async function partitions(topic: string): Promise<PartitionState[]> {
  const metadata = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [topic] }));
  return metadata.topics[0]!.partitions.map((p) => ({
    partition: p.partitionId,
    leader: p.leader,
    isr: p.isr,
  })).sort((a, b) => a.partition - b.partition);
}

/** Waits until every partition of the topic has all three replicas in sync (after a node came back). */
export async function waitForFullIsr(topic: string, timeoutMs = 120000): Promise<void> {
  await waitFor(
    async () => (await partitions(topic)).every((p) => p.isr.length === 3),
    `every partition of ${topic} to have 3 in-sync replicas`,
    timeoutMs,
    500,
  );
}

/**
 * Waits until the topic stops growing (its end offsets unchanged for a few seconds) and returns how many
 * records a consumer reads from it.
 */
export async function settled(topic: string, timeoutMs = 180000): Promise<number> {
  return settledRecordCount(topic, { quietMs: 4000, timeoutMs });
}

export interface StoredRecord {
  seq: number;
  partition: number;
  offset: number;
  headers: string;
}

/**
 * Every record of the topic as a consumer reads it (read_committed, to the end of every partition): the
 * sequence number its line carries, and its partition. Counted by reading, never from the offsets: each
 * transaction's commit marker takes an offset of its own, and records of an aborted transaction keep theirs.
 */
export async function storedRecords(topic: string): Promise<StoredRecord[]> {
  const records = await topicRecords(brokers(), topic);
  return records.map((r) => ({
    seq: sequenceOf(decodeRecordValue(r.value)),
    partition: r.partition,
    offset: r.offset,
    headers: r.headers,
  }));
}

/** Every record of the topic, as the sequence numbers its lines carry. */
export async function storedSequences(topic: string): Promise<number[]> {
  return (await storedRecords(topic)).map((r) => r.seq);
}

/**
 * The partitions that acknowledged but missing lines belong to: a line's partition follows from its key (the
 * client address), which the stored lines of the same client show.
 */
export function partitionsOf(lines: number[], stored: StoredRecord[]): number[] {
  const byClient = new Map(stored.map((r) => [clientOf(r.seq), r.partition]));
  return [...new Set(lines.map((seq) => byClient.get(clientOf(seq)) ?? -1))].sort((a, b) => a - b);
}

export interface Tally {
  /** Distinct sequence numbers. */
  distinct: Set<number>;
  /** Copies beyond the first. */
  duplicates: number;
}

export function tally(seqs: Iterable<number>): Tally {
  const distinct = new Set<number>();
  let duplicates = 0;
  for (const s of seqs) {
    if (distinct.has(s)) duplicates++;
    else distinct.add(s);
  }
  return { distinct, duplicates };
}

/** Where the copies of lines stored more than once are (partition, offset, headers), for the first few. */
export function copiesOfDuplicates(stored: StoredRecord[], limit = 4): string[] {
  const bySeq = new Map<number, StoredRecord[]>();
  for (const r of stored) bySeq.set(r.seq, [...(bySeq.get(r.seq) ?? []), r]);
  return [...bySeq.values()]
    .filter((copies) => copies.length > 1)
    .slice(0, limit)
    .map(
      (copies) =>
        `${copies[0]!.seq}: ${copies.map((c) => `p${c.partition}@${c.offset} ${c.headers}`).join(' | ')}`,
    );
}

/** The acknowledged sequence numbers that are missing from `have`. */
export function missing(acknowledged: Iterable<number>, have: Set<number>): number[] {
  return [...acknowledged].filter((s) => !have.has(s));
}

const context = (id: string) => ({ awsRequestId: id }) as Context;

/**
 * Concurrent direct invocations of the ingest function, each with its own run of numbered lines, until
 * stop(): which lines were acknowledged (the function answered with counts) and which failed (it threw).
 */
export class IngestLoad {
  readonly acknowledged: number[] = [];
  readonly failed: number[] = [];
  /** Lines of failed requests whose answer said "stored: unknown" (Kafka vanished during the commit). */
  readonly failedUnknown: number[] = [];
  readonly errors: string[] = [];
  /** Time of each acknowledgement, to see the producers carry on after a failure. */
  readonly ackTimes: number[] = [];
  private next: number;
  private stopping = false;
  private loops: Promise<void>[] = [];
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly handler: LineHandler,
    private readonly options: { concurrency: number; linesPerRequest: number; firstSequence: number },
  ) {
    this.next = options.firstSequence;
  }

  start(): this {
    this.loops = Array.from({ length: this.options.concurrency }, (_, i) => this.loop(i));
    return this;
  }

  private async loop(worker: number): Promise<void> {
    let n = 0;
    while (!this.stopping) {
      const first = this.next;
      this.next += this.options.linesPerRequest;
      const lines = nginxLines(this.options.linesPerRequest, first);
      const seqs = lines.map((_, i) => first + i);
      try {
        const result = (await this.handler({ lines }, context(`w${worker}-${n++}`))) as IngestResult;
        if (result.accepted !== lines.length)
          throw new Error(`accepted ${result.accepted} of ${lines.length}`);
        this.acknowledged.push(...seqs);
        this.ackTimes.push(Date.now());
      } catch (err) {
        this.failed.push(...seqs);
        if ((err as { stored?: string }).stored === 'unknown') this.failedUnknown.push(...seqs);
        if (this.errors.length < 20) this.errors.push((err as Error).message);
      }
    }
  }

  /** Lines of failed requests that are stored although their answer said nothing was ("stored: none"). */
  storedDespiteNone(stored: Set<number>): number[] {
    const unknown = new Set(this.failedUnknown);
    return this.failed.filter((s) => stored.has(s) && !unknown.has(s));
  }

  /** Resolves once `count` more lines were acknowledged than when called. */
  async acknowledgedMore(count: number, what: string, timeoutMs = 120000): Promise<void> {
    const from = this.acknowledged.length;
    await waitFor(() => this.acknowledged.length >= from + count, what, timeoutMs, 100);
  }

  /**
   * Stops the callers; then no transaction of the function's producer is left open. A request that failed
   * may leave its transaction open when the abort could not reach the coordinator (a killed broker's); the
   * producer reconnects with the same transactional id, which makes the coordinator abort it, as the next
   * request would. Until then a read_committed reader stops at the open transaction's first offset.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      await Promise.all(this.loops);
      const config = loadConfig();
      await sharedAtomicProducer(config).maxRecordBytes([config.topic]);
    })();
    return this.stopped;
  }
}

/** The event source's warnings and errors, printed when a test fails (its notices are left out). */
export const sourceWarnings: string[] = [];
const quiet: SourceLog = {
  notice: () => undefined,
  warning: (line) => void (sourceWarnings.length < 50 && sourceWarnings.push(line)),
  error: (line) => void (sourceWarnings.length < 50 && sourceWarnings.push(line)),
};

/**
 * A function subscribed to the topic in a consumer group through the local event source; every sequence
 * number it is handed goes into `handled`. The caller starts and stops it. Its log keeps only warnings and
 * errors (sourceWarnings) unless the caller passes one.
 */
export function subscribe(
  topic: string,
  group: string,
  key: string,
  handled: number[],
  log: SourceLog = quiet,
): KafkaEventSource {
  const definition = parseKafkaEventDefinition(
    key,
    'msk',
    { arn: 'arn:aws:kafka:local', topic, consumerGroupId: group, batchSize: 100, maximumBatchingWindow: 0.2 },
    group,
  );
  return new KafkaEventSource(
    definition,
    testKafka(),
    brokers(),
    async (event) => {
      for (const r of deliveredRecords(event as MSKEvent))
        handled.push(sequenceOf(decodeRecordValue(r.value!)));
    },
    log,
  );
}

/** After a test: every node started again (kafka:start starts the ones down) and the topic fully in sync. */
export async function healCluster(topic: string): Promise<void> {
  await kafkaCli('start');
  await waitForFullIsr(topic);
}
