/**
 * One idempotent producer per Lambda container (per process locally), created on first use and reused by
 * warm invocations. A failed connection is forgotten, so the next invocation connects afresh.
 */
import type { Kafka, Producer, TopicMessages } from 'kafkajs';
import { loadConfig, type PipelineConfig } from '../config';
import { logger } from '../log';
import { closeSharedAtomicProducer } from './atomic-producer';
import { forgetBootstrapBrokers } from './bootstrap';
import { connectKafka, createKafka } from './client';
import { KeyHashPartitioner } from './partitioner';
import { compareAnswers, onePartitionEach } from './send-plan';

let shared: Promise<Producer> | undefined;

export function createProducer(config: PipelineConfig, kafka: Kafka = createKafka(config)): Producer {
  return kafka.producer({
    // Exactly one copy per send even when a retry follows a lost acknowledgement, and, with one request in
    // flight per broker connection, records of one key stay in the order they were sent.
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // murmur2, as the Java client and kafkajs's DefaultPartitioner: a key lands on the same partition
    // whichever client produced it.
    createPartitioner: KeyHashPartitioner,
  });
}

export function sharedProducer(config: PipelineConfig = loadConfig()): Promise<Producer> {
  if (!shared) {
    // connectKafka adds TLS/SASL and discovers MSK brokers when configured; locally it only names the brokers.
    const connecting: Promise<Producer> = connectKafka(config).then(async (kafka) => {
      const producer = createProducer(config, kafka);
      producer.on(producer.events.DISCONNECT, () => {
        if (shared === connecting) shared = undefined;
      });
      await producer.connect();
      logger.info('producer.connected', {
        brokers: config.brokers.length > 0 ? config.brokers : config.connection.clusterArn,
        ...(config.connection.auth !== 'none' ? { auth: config.connection.auth } : {}),
      });
      return producer;
    });
    connecting.catch(() => {
      if (shared === connecting) shared = undefined;
      // Brokers discovered from an MSK cluster ARN may have been replaced: ask again next time.
      if (config.brokers.length === 0) forgetBootstrapBrokers();
    });
    shared = connecting;
  }
  return shared;
}

/** Sends with acknowledgement from all in-sync replicas; resolves once the broker has them. */
export async function sendAll(producer: Producer, topicMessages: TopicMessages[]): Promise<void> {
  const nonEmpty = topicMessages.filter((t) => t.messages.length > 0);
  if (nonEmpty.length === 0) return;
  await producer.sendBatch({ topicMessages: nonEmpty, acks: -1 });
}

/** Records of a send that were not acknowledged, per partition: what the next attempt must send. */
export class PartlySentError extends Error {
  constructor(
    readonly unsent: TopicMessages[],
    override readonly cause: unknown,
  ) {
    super((cause as Error)?.message ?? String(cause));
  }
}

/**
 * Sends messages that each name their partition (acks from all in-sync replicas), one sendBatch call per
 * partition, all at once, and resolves only once every partition was answered. kafkajs 2.2.4's sendBatch,
 * given several leaders in one call, can resolve without sending a partition whose leader moved, or send a
 * partition twice when it retries while another leader's part is in flight (see UnansweredPartitionsError);
 * a call for one partition involves one broker at a time. A partition left unanswered is sent again at once
 * (RESEND_ROUNDS); one whose call failed is reported in a PartlySentError with the records still to send,
 * and the partitions that were acknowledged are not sent again.
 */
export async function sendEveryPartition(producer: Producer, topicMessages: TopicMessages[]): Promise<void> {
  let pending = onePartitionEach(topicMessages.filter((t) => t.messages.length > 0));
  for (let round = 1; pending.length > 0; round++) {
    const outcomes = await Promise.allSettled(
      pending.map((part) => producer.sendBatch({ topicMessages: part, acks: -1 })),
    );
    const failed: TopicMessages[][] = [];
    const unanswered: TopicMessages[][] = [];
    let error: unknown;
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'rejected') {
        failed.push(pending[i]!);
        error ??= outcome.reason;
        return;
      }
      const check = compareAnswers(pending[i]!, outcome.value);
      if (check.repeated.length > 0 || check.unexpected.length > 0)
        logger.error('producer.written_twice', { partitions: [...check.repeated, ...check.unexpected] });
      if (check.unsent.length > 0) unanswered.push(check.unsent);
    });
    if (failed.length > 0) throw new PartlySentError([...failed, ...unanswered].flat(), error);
    if (unanswered.length === 0) return;
    logger.warn('producer.resending', {
      partitions: unanswered.flat().map((t) => `${t.topic}-${t.messages[0]!.partition}`),
      round,
    });
    if (round >= RESEND_ROUNDS)
      throw new PartlySentError(unanswered.flat(), new Error('unanswered partitions'));
    pending = unanswered;
  }
}

/** Rounds of sending the partitions left unanswered before sendEveryPartition gives up. */
export const RESEND_ROUNDS = 5;

/**
 * `serverless invoke local` runs one invocation in a process that should then exit, which an open broker
 * connection would prevent; it sets IS_LOCAL. On Lambda and under serverless offline the connection stays
 * for the next warm invocation.
 */
export async function endOfInvocation(): Promise<void> {
  if (process.env.IS_LOCAL === 'true') {
    await disconnectSharedProducer();
    await closeSharedAtomicProducer();
  }
}

/** For tests and CLIs that own the process: disconnects the shared producer if one was made. */
export async function disconnectSharedProducer(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (current) await (await current.catch(() => undefined))?.disconnect();
}
