/**
 * The producer of the functions that take requests (ingest, SNS dead letters): everything one request
 * produces goes to Kafka in one transaction, so a consumer reading committed records sees all of it or none
 * of it, and each record once.
 *
 * - Sizes come from the cluster: each topic's partition count and effective `max.message.bytes` are read
 *   with the admin API and kept for a minute; the records are planned into produce requests that fit
 *   (./send-plan).
 * - Records go out one partition per produce call, and a request is committed only when the broker answered
 *   once for each partition it carries: kafkajs 2.2.4's sendBatch, given several leaders at once, can send a
 *   partition twice or not at all and still resolve (./send-plan, checkAnswered). Otherwise the transaction
 *   is aborted and the request sent again whole, so a leader failover loses nothing acknowledged and stores
 *   nothing twice (test/cluster counts it).
 * - Answers come fast: the client retries for a few seconds, and a request that is not sent within
 *   PRODUCE_DEADLINE_MS fails with the broker named as the cause, well inside Lambda's 30 s timeout.
 * - A commit that is sent but not answered (the broker died or froze) is settled, not guessed: once a broker
 *   answers again, re-initialising the transactional id makes the coordinator finish the transaction, and
 *   the first record it wrote is read as committed consumers read it (transactionOutcome). The answer is then
 *   the truth (stored, or nothing stored); `unknown` only when no broker answers before the request's
 *   deadline and commit grace.
 * - The producer recovers by itself: after any failure the connection, producer id and cached limits are
 *   dropped; the next request connects afresh with the same transactional id, which makes the broker abort
 *   whatever transaction the failed producer left open (a new epoch fences the old one).
 * - One transaction at a time per producer: concurrent callers queue (a Lambda container serves one request
 *   at a time anyway).
 */
import { randomUUID } from 'node:crypto';
import {
  ConfigResourceTypes,
  type Admin,
  type Kafka,
  type Producer,
  type RecordMetadata,
  type TopicMessages,
} from 'kafkajs';
import type { PipelineConfig } from '../config';
import { logger } from '../log';
import { forgetBootstrapBrokers } from './bootstrap';
import { connectKafka } from './client';
import { KeyHashPartitioner } from './partitioner';
import { produceError, ProduceError, NONE_STORED } from './produce-errors';
import {
  batchBudget,
  checkAnswered,
  KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
  onePartitionEach,
  planSends,
  type TopicShape,
} from './send-plan';

/** A request's records must be sent (not yet committed) within this time, or it fails with nothing stored. */
export const PRODUCE_DEADLINE_MS = 15000;
/** A request that fails before its commit is sent again whole for this long (see sendBefore). */
export const RETRY_FOR_MS = 8000;
/** Once the commit is sent, it gets this much longer to be answered or settled before the outcome is unknown. */
export const COMMIT_GRACE_MS = 5000;
/** A commit unanswered for this long is settled instead of waited for (see settle). */
export const COMMIT_ANSWER_MS = 3000;
/** The broker aborts a transaction its producer left open (a container that died mid-request) after this. */
export const TRANSACTION_TIMEOUT_MS = 30000;
/** Partition counts and size limits are read again after this long, and after any failure. */
export const TOPIC_SHAPE_TTL_MS = 60000;

/** Where the transaction coordinators keep their state (its own min.insync.replicas, 2 on MSK). */
const TRANSACTION_LOG = '__transaction_state';

/** The client of this producer fails over in seconds, not the minute the shared client's retries take. */
const FAST_CLIENT = {
  connectionTimeout: 2000,
  requestTimeout: 8000,
  retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 4 },
} as const;

export interface AtomicProducerOptions {
  deadlineMs?: number;
  commitGraceMs?: number;
  /** Unique per container; a restarted container gets a new one (Lambda containers are never revived). */
  transactionalId?: string;
}

interface Connection {
  kafka: Kafka;
  producer: Producer;
  admin: Admin;
}

/** Where a partition's part of a transaction begins: the broker's answer to its produce call. */
export interface Written {
  topic: string;
  partition: number;
  baseOffset: string;
}

interface TransactionState {
  committing: boolean;
  cancelled: boolean;
  written: Written[];
}

/** What a transaction whose commit went unanswered turned out to be, once a broker answered again. */
export type Settled = 'committed' | 'aborted';

const TIMED_OUT = Symbol('timed out');

async function within<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, ms));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export class AtomicProducer {
  readonly transactionalId: string;
  readonly deadlineMs: number;
  private readonly commitGraceMs: number;
  private connection: Promise<Connection> | undefined;
  private readonly shapes = new Map<string, { shape: TopicShape; at: number }>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: PipelineConfig,
    options: AtomicProducerOptions = {},
  ) {
    this.deadlineMs = options.deadlineMs ?? PRODUCE_DEADLINE_MS;
    this.commitGraceMs = options.commitGraceMs ?? COMMIT_GRACE_MS;
    this.transactionalId =
      options.transactionalId ??
      `${config.clientId}-${process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local'}-${randomUUID()}`;
  }

  /**
   * Sends every message in one transaction and resolves once it is committed. Rejects with a ProduceError
   * that says whether anything is visible (`stored`: none or unknown).
   */
  send(topicMessages: readonly TopicMessages[]): Promise<void> {
    const deadline = Date.now() + this.deadlineMs;
    const turn = this.queue.then(() => this.sendBefore(topicMessages, deadline));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /**
   * The largest record each topic takes, from its `max.message.bytes`: a record above it can never be sent
   * and must become a dead letter instead.
   */
  async maxRecordBytes(topics: readonly string[]): Promise<Map<string, number>> {
    const deadline = Date.now() + this.deadlineMs;
    const shapes = await this.failingFast(() => this.shapesOf(topics), deadline, topics);
    return new Map([...shapes].map(([topic, shape]) => [topic, batchBudget(shape.maxMessageBytes)]));
  }

  /** Closes the connection (tests, CLIs, `serverless invoke local`). */
  async close(): Promise<void> {
    const current = this.connection;
    this.connection = undefined;
    const connection = await current?.catch(() => undefined);
    await Promise.allSettled([connection?.producer.disconnect(), connection?.admin.disconnect()]);
  }

  /** Reads of the cluster (limits, partition counts): retried like a send, never past the deadline. */
  private async failingFast<T>(
    read: () => Promise<T>,
    deadline: number,
    topics: readonly string[],
  ): Promise<T> {
    const retryUntil = Math.min(deadline, Date.now() + RETRY_FOR_MS);
    for (let attempt = 1; ; attempt++) {
      const work = read();
      work.catch(() => undefined);
      let timedOut = false;
      try {
        const outcome = await within(work, deadline - Date.now());
        if (outcome !== TIMED_OUT) return outcome;
        timedOut = true;
        throw new Error('no answer');
      } catch (err) {
        this.reset();
        const failure = produceError(err, {
          topics,
          committing: false,
          deadlineMs: this.deadlineMs,
          timedOut,
        });
        const pause = Math.min(1000, 100 * 2 ** attempt);
        if (failure.kind !== 'unavailable' || timedOut || Date.now() + pause >= retryUntil) throw failure;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  private async sendBefore(topicMessages: readonly TopicMessages[], deadline: number): Promise<void> {
    const nonEmpty = topicMessages.filter((t) => t.messages.length > 0);
    if (nonEmpty.length === 0) return;
    const topics = [...new Set(nonEmpty.map((t) => t.topic))];
    // A request whose commit was never sent can be sent again whole, in a new transaction: the old one is
    // never committed. So a broker that is starting (coordinator loading, leaders moving) or a limit that
    // changed costs a retry, not a failure; a broker that stays down fails after RETRY_FOR_MS.
    const retryUntil = Math.min(deadline, Date.now() + RETRY_FOR_MS);
    for (let attempt = 1; ; attempt++) {
      const state: TransactionState = { committing: false, cancelled: false, written: [] };
      const work = this.transact(nonEmpty, topics, state);
      work.catch(() => undefined);
      let timedOut = false;
      try {
        let outcome = await within(work, deadline - Date.now());
        if (outcome === TIMED_OUT && state.committing) outcome = await within(work, this.commitGraceMs);
        if (outcome === TIMED_OUT) {
          timedOut = true;
          throw new Error(state.committing ? 'no answer to the commit' : 'no answer');
        }
        return;
      } catch (err) {
        if (state.committing) {
          // The commit was sent and not answered: the transaction may be committed or not. Once a broker
          // answers again, that is found out (settle); only a broker that stays away leaves it unknown.
          state.cancelled = true;
          this.reset();
          const settled = await this.settle(state.written, deadline + this.commitGraceMs);
          if (settled === 'committed') {
            logger.warn('producer.commit_settled', {
              transactionalId: this.transactionalId,
              settled,
              error: err,
            });
            return;
          }
          const failure =
            settled === 'aborted'
              ? new ProduceError(
                  'commit-aborted',
                  'none',
                  `Kafka stopped answering while this request was being committed; once it answered again the ` +
                    `transaction was found aborted: ${NONE_STORED}. Retry the same request.`,
                  err,
                )
              : produceError(err, { topics, committing: true, deadlineMs: this.deadlineMs, timedOut });
          logger.warn('producer.failed', {
            transactionalId: this.transactionalId,
            attempt,
            kind: failure.kind,
            stored: failure.stored,
            error: err,
          });
          throw failure;
        }
        state.cancelled = true;
        const context = { topics, committing: state.committing, deadlineMs: this.deadlineMs, timedOut };
        let failure = produceError(err, context);
        if (failure.kind === 'unavailable' && !state.committing && !timedOut) {
          // With too few in-sync replicas the transaction coordinator cannot record the transaction and
          // answers COORDINATOR_NOT_AVAILABLE (or CONCURRENT_TRANSACTIONS) instead of the partitions'
          // NOT_ENOUGH_REPLICAS: the cluster is asked, so the caller hears the reason now, not at the deadline.
          const shortOfReplicas = await this.shortOfReplicas(topics, deadline);
          if (shortOfReplicas.length > 0) failure = produceError(err, { ...context, shortOfReplicas });
        }
        this.reset();
        const pause = Math.min(1000, 100 * 2 ** attempt);
        const again =
          (failure.kind === 'unavailable' || (failure.kind === 'too-large' && attempt === 1)) &&
          !timedOut &&
          Date.now() + pause < retryUntil;
        logger.warn(again ? 'producer.retrying' : 'producer.failed', {
          transactionalId: this.transactionalId,
          attempt,
          kind: failure.kind,
          stored: failure.stored,
          error: err,
        });
        if (!again) throw failure;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  /**
   * The partitions of `topics` (and of the transaction log) with fewer in-sync replicas than their topic's
   * min.insync.replicas, asked of the cluster through the current connection within a second or two; none
   * when it cannot tell.
   */
  private async shortOfReplicas(topics: readonly string[], deadline: number): Promise<string[]> {
    const current = this.connection;
    if (!current) return [];
    const ask = (async () => {
      const { admin } = await current;
      const all = [...topics, TRANSACTION_LOG];
      const [{ topics: metadata }, { resources }] = await Promise.all([
        admin.fetchTopicMetadata({ topics: all }),
        admin.describeConfigs({
          includeSynonyms: false,
          resources: all.map((name) => ({
            type: ConfigResourceTypes.TOPIC,
            name,
            configNames: ['min.insync.replicas'],
          })),
        }),
      ]);
      const minIsr = new Map(
        resources.map((r) => [
          r.resourceName,
          Number(r.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue ?? 1),
        ]),
      );
      // The request's own partitions first, then the transaction log's, each in partition order.
      return all.flatMap((name) =>
        (metadata.find((t) => t.name === name)?.partitions ?? [])
          .filter((p) => p.isr.length < (minIsr.get(name) ?? 1))
          .sort((a, b) => a.partitionId - b.partitionId)
          .map((p) => `${name}-${p.partitionId} (${p.isr.length} of ${minIsr.get(name)})`),
      );
    })();
    const outcome = await within(
      ask.catch(() => [] as string[]),
      Math.min(2000, deadline - Date.now()),
    );
    return outcome === TIMED_OUT ? [] : outcome;
  }

  private async transact(
    topicMessages: readonly TopicMessages[],
    topics: readonly string[],
    state: TransactionState,
  ): Promise<void> {
    const { producer } = await this.connect();
    const plan = planSends(topicMessages, await this.shapesOf(topics));
    const stopIfCancelled = () => {
      if (state.cancelled)
        throw new ProduceError('unavailable', 'none', `the deadline passed; ${NONE_STORED}`);
    };
    stopIfCancelled();
    const transaction = await producer.transaction();
    try {
      // One partition per sendBatch, one after another: kafkajs 2.2.4 sends one call's partitions to their
      // leaders in parallel, and when one leader's part fails (CONCURRENT_TRANSACTIONS just after the previous
      // commit, routinely, or a leader that died) it retries while another leader's part is still in flight,
      // sending that part again under new sequence numbers: stored twice, in the same transaction. A call for
      // one partition involves one broker at a time. The answers are still checked (checkAnswered): a
      // mismatch aborts the transaction and the request is sent again whole.
      for (const request of plan) {
        for (const part of onePartitionEach(request)) {
          stopIfCancelled();
          const answers = await transaction.sendBatch({ topicMessages: part, acks: -1 });
          checkAnswered(part, answers);
          state.written.push(...writtenBy(answers));
        }
      }
      stopIfCancelled();
      state.committing = true;
      logger.debug('producer.committing', { transactionalId: this.transactionalId });
      const committed = await within(transaction.commit(), COMMIT_ANSWER_MS);
      if (committed === TIMED_OUT) throw new Error(`no answer to the commit within ${COMMIT_ANSWER_MS} ms`);
    } catch (err) {
      // Aborting now releases consumers waiting behind the open transaction; if the broker does not answer,
      // the next producer's fencing (or the transaction timeout) aborts it.
      if (!state.committing) await within(transaction.abort(), 2000).catch(() => undefined);
      throw err;
    }
  }

  /**
   * What became of a transaction whose commit was sent but not answered, found out before `until`:
   * re-initialising the same transactional id makes the coordinator finish it (a commit it recorded is
   * completed, a transaction it did not see the commit of is aborted), after which the first record the
   * transaction wrote is read as a consumer of committed records reads it: there means committed, skipped
   * means aborted. Undefined when no broker answers in time, or the read is not allowed (an AWS stage's ingest
   * role may read back what it writes, in its settle groups; SCRAM ACLs may not allow it).
   */
  private async settle(written: readonly Written[], until: number): Promise<Settled | undefined> {
    const probe = written[0];
    if (!probe) return undefined;
    for (let attempt = 1; Date.now() < until; attempt++) {
      const work = this.outcomeOf(probe);
      work.catch(() => undefined);
      try {
        const outcome = await within(work, until - Date.now());
        if (outcome !== TIMED_OUT) return outcome;
      } catch (err) {
        logger.warn('producer.settling', { transactionalId: this.transactionalId, attempt, error: err });
        if (
          produceError(err, { topics: [probe.topic], committing: false, deadlineMs: 0, timedOut: false })
            .kind === 'refused'
        )
          return undefined;
      }
      this.reset();
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, Math.max(0, until - Date.now()))));
    }
    this.reset();
    return undefined;
  }

  private async outcomeOf(probe: Written): Promise<Settled> {
    const { kafka, producer } = await this.connect();
    return transactionOutcome(kafka, producer, this.transactionalId, probe, this.deadlineMs);
  }

  private connect(): Promise<Connection> {
    if (!this.connection) {
      const connecting = (async (): Promise<Connection> => {
        const kafka = await connectKafka(this.config, FAST_CLIENT);
        const producer = kafka.producer({
          transactionalId: this.transactionalId,
          idempotent: true,
          maxInFlightRequests: 1,
          transactionTimeout: TRANSACTION_TIMEOUT_MS,
          allowAutoTopicCreation: false,
          createPartitioner: KeyHashPartitioner,
        });
        const admin = kafka.admin();
        try {
          await producer.connect();
          await admin.connect();
        } catch (err) {
          await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
          throw err;
        }
        logger.info('producer.connected', { transactionalId: this.transactionalId });
        return { kafka, producer, admin };
      })();
      connecting.catch(() => {
        if (this.connection === connecting) this.connection = undefined;
        // Brokers discovered from an MSK cluster ARN may have been replaced: ask again next time.
        if (this.config.brokers.length === 0) forgetBootstrapBrokers();
      });
      this.connection = connecting;
    }
    return this.connection;
  }

  /** Drops everything that may no longer be true: the connection, the producer id, the topic limits. */
  private reset(): void {
    const current = this.connection;
    this.connection = undefined;
    this.shapes.clear();
    void current
      ?.then(({ producer, admin }) => Promise.allSettled([producer.disconnect(), admin.disconnect()]))
      .catch(() => undefined);
  }

  private async shapesOf(topics: readonly string[]): Promise<Map<string, TopicShape>> {
    const now = Date.now();
    const stale = topics.filter((t) => (this.shapes.get(t)?.at ?? -Infinity) <= now - TOPIC_SHAPE_TTL_MS);
    if (stale.length > 0) {
      const { admin } = await this.connect();
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: stale });
      const limits = await this.topicLimits(admin, stale);
      for (const { name, partitions } of metadata) {
        this.shapes.set(name, {
          shape: { partitions: partitions.length, maxMessageBytes: limits.get(name)! },
          at: now,
        });
      }
    }
    return new Map(topics.map((t) => [t, this.shapes.get(t)!.shape]));
  }

  /** Each topic's effective max.message.bytes (its own setting, else the broker's message.max.bytes). */
  private async topicLimits(admin: Admin, topics: readonly string[]): Promise<Map<string, number>> {
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: ['max.message.bytes'],
        })),
      });
      return new Map(
        resources.map((r) => {
          const value = Number(
            r.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue,
          );
          return [
            r.resourceName,
            Number.isFinite(value) && value > 0 ? value : KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
          ];
        }),
      );
    } catch (err) {
      // A role without permission to describe topic configurations: Kafka's (and MSK's) default applies.
      logger.warn('producer.limits_unreadable', { topics, error: err });
      return new Map(topics.map((t) => [t, KAFKA_DEFAULT_MAX_MESSAGE_BYTES]));
    }
  }
}

/**
 * Whether the transaction that wrote `probe` was committed, given a connected producer with the same
 * transactional id: opening a transaction on it re-initialises the id, which makes the coordinator finish
 * the previous transaction (complete a commit it recorded, abort one whose commit it never saw) and fences
 * the producer that left it. The outcome is then final, and the record at the probe's offset is read as a
 * consumer of committed records reads it: there means committed, skipped means aborted.
 */
export async function transactionOutcome(
  kafka: Kafka,
  producer: Producer,
  transactionalId: string,
  probe: Written,
  timeoutMs = PRODUCE_DEADLINE_MS,
): Promise<Settled> {
  const fence = await producer.transaction();
  await fence.abort(); // nothing was added to it: no request, the producer is ready again
  const consumer = kafka.consumer({
    groupId: `${transactionalId}-settle`,
    readUncommitted: false,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [probe.topic] });
    const from = BigInt(probe.baseOffset);
    let timer: NodeJS.Timeout | undefined;
    return await new Promise<Settled>((resolve, reject) => {
      // The consumer never outlives the question: it is disconnected (finally) when no answer comes.
      timer = setTimeout(() => reject(new Error(`the probe was not read within ${timeoutMs} ms`)), timeoutMs);
      const ours = (topic: string, partition: number) =>
        topic === probe.topic && partition === probe.partition;
      // A fetch whose records were all aborted delivers no batch, only this event.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (
          ours(payload.topic, payload.partition) &&
          payload.batchSize === 0 &&
          BigInt(payload.lastOffset) >= from
        )
          resolve('aborted');
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (!ours(batch.topic, batch.partition)) return;
            const first = batch.messages.find((m) => BigInt(m.offset) >= from);
            if (first) resolve(BigInt(first.offset) === from ? 'committed' : 'aborted');
          },
        })
        .catch(reject);
      consumer.seek({ topic: probe.topic, partition: probe.partition, offset: probe.baseOffset });
    }).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

/** The first offset each answered partition's records got. */
function writtenBy(answers: readonly RecordMetadata[]): Written[] {
  return answers
    .filter((a) => a.baseOffset !== undefined)
    .map((a) => ({ topic: a.topicName, partition: a.partition, baseOffset: a.baseOffset! }));
}

let shared: AtomicProducer | undefined;

/** One per Lambda container (per worker locally), reused by warm invocations. */
export function sharedAtomicProducer(config: PipelineConfig): AtomicProducer {
  shared ??= new AtomicProducer(config);
  return shared;
}

/** Closes the shared atomic producer if one was made (invoke local, tests). */
export async function closeSharedAtomicProducer(): Promise<void> {
  const current = shared;
  shared = undefined;
  await current?.close();
}
