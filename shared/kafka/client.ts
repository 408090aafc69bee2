/**
 * The Kafka client factory every producer, consumer and admin in the project goes through: one place for
 * brokers, timeouts, retry with backoff, and logging. Authentication (TLS, SCRAM, MSK IAM) and MSK broker
 * discovery come from ./msk-auth: `connectKafka` for clients that may talk to Amazon MSK.
 */
import { Kafka, type KafkaConfig } from 'kafkajs';
import type { PipelineConfig } from '../config';
import { kafkaLogCreator, kafkaLogLevel } from '../log';
import { connectionOptions } from './msk-auth';

export function createKafka(
  config: Pick<PipelineConfig, 'brokers' | 'clientId'>,
  extra: Partial<KafkaConfig> = {},
): Kafka {
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    // Broker trouble: retry with exponential backoff (0.3 s doubling, ~1 min in all), then fail loudly.
    retry: { initialRetryTime: 300, maxRetryTime: 30000, retries: 8 },
    logLevel: kafkaLogLevel(),
    logCreator: kafkaLogCreator,
    ...extra,
  });
}

/**
 * A client for the configured cluster with its authentication: the local broker as createKafka makes it, or
 * Amazon MSK / any TLS+SASL cluster with brokers discovered from the cluster ARN when KAFKA_BROKERS is unset.
 */
export async function connectKafka(
  config: Pick<PipelineConfig, 'brokers' | 'clientId' | 'connection'>,
  extra: Partial<KafkaConfig> = {},
): Promise<Kafka> {
  const options = await connectionOptions(config);
  return createKafka(config, { ...options, ...extra });
}
