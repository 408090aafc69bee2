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
