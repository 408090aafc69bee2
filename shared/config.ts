/**
 * Configuration from the environment, with defaults that work against the local broker.
 * Every variable read here is documented in the README's configuration table.
 */
export interface PipelineConfig {
  /** Bootstrap brokers, host:port. */
  brokers: string[];
  /** Topic the structured nginx records are produced to. */
  topic: string;
  /** Topic for lines that could not be parsed and records that could not be handled. */
  deadLetterTopic: string;
  /** Kafka client id, shown in broker logs and metrics. */
  clientId: string;
}

export const DEFAULTS = {
  brokers: '127.0.0.1:9092',
  topic: 'nginx_logs',
  deadLetterTopic: 'nginx_logs_dlq',
  clientId: 'nginx-kafka-serverless',
} as const;

export function splitBrokers(value: string): string[] {
  const brokers = value
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  for (const broker of brokers) {
    if (!/^[^:\s]+:\d+$/.test(broker) && !/^\[[0-9a-fA-F:]+\]:\d+$/.test(broker)) {
      throw new Error(`KAFKA_BROKERS entry "${broker}" is not host:port (example: 127.0.0.1:9092)`);
    }
  }
  if (brokers.length === 0) throw new Error('KAFKA_BROKERS is empty; set it to host:port[,host:port...]');
  return brokers;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): PipelineConfig {
  return {
    brokers: splitBrokers(env.KAFKA_BROKERS || DEFAULTS.brokers),
    topic: env.KAFKA_TOPIC || DEFAULTS.topic,
    deadLetterTopic: env.KAFKA_DLQ_TOPIC || DEFAULTS.deadLetterTopic,
    clientId: env.KAFKA_CLIENT_ID || DEFAULTS.clientId,
  };
}
