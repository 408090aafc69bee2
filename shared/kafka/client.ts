/**
 * The Kafka client factory every producer, consumer and admin in the project goes through: one place for
 * brokers, timeouts, retry with backoff, and logging. Authentication for Amazon MSK is added here too.
 */
import { Kafka, type KafkaConfig } from 'kafkajs';
import type { PipelineConfig } from '../config';
import { kafkaLogCreator, kafkaLogLevel } from '../log';

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
