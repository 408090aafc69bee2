/**
 * The kafkajs client of the plugin's consumers and failure-destination producers: short connection
 * timeout, retry with backoff, and kafkajs's warnings and errors in the plugin's own log.
 */
import { Kafka, logLevel, type logCreator } from 'kafkajs';
import type { SourceLog } from './plugin-support';

/** kafkajs lines of normal operation (a member joining or leaving, retried protocol errors): not shown. */
const ROUTINE = [
  'The group is rebalancing, re-joining',
  'Response ',
  'KafkaJS v2.0.0 switched default partitioner',
];

function logTo(log: SourceLog): logCreator {
  return () =>
    ({ level, label, log: entry }) => {
      const message = String(entry.message);
      if (ROUTINE.some((r) => message.startsWith(r))) return;
      const line = `kafkajs ${label}: ${message}`;
      if (level === logLevel.ERROR) log.error(line);
      else log.warning(line);
    };
}

export function kafkaClient(brokers: string[], clientId: string, log: SourceLog): Kafka {
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    // Broker trouble: retry with exponential backoff (0.3 s doubling, about a minute in all), then fail.
    retry: { initialRetryTime: 300, maxRetryTime: 30000, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator: logTo(log),
  });
}
