/**
 * One structured JSON line per meaningful event. Lambda and serverless-offline both pass stdout through,
 * so the same lines are readable locally and searchable in CloudWatch Logs Insights.
 */
import type { logCreator } from 'kafkajs';
import { logLevel as KafkaLogLevel } from 'kafkajs';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function threshold(): number {
  const wanted = (process.env.LOG_LEVEL ?? 'info').toLowerCase() as Level;
  return ORDER[wanted] ?? ORDER.info;
}

export type Fields = Record<string, unknown>;

function errorFields(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

export function log(level: Level, msg: string, fields: Fields = {}): void {
  if (ORDER[level] < threshold()) return;
  const line: Fields = { level, time: new Date().toISOString(), msg };
  for (const [key, value] of Object.entries(fields)) line[key] = errorFields(value);
  const text = JSON.stringify(line);
  if (level === 'error' || level === 'warn') console.error(text);
  else console.log(text);
}

export const logger = {
  debug: (msg: string, fields?: Fields) => log('debug', msg, fields),
  info: (msg: string, fields?: Fields) => log('info', msg, fields),
  warn: (msg: string, fields?: Fields) => log('warn', msg, fields),
  error: (msg: string, fields?: Fields) => log('error', msg, fields),
};

const KAFKA_LEVELS: Record<number, Level> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/**
 * kafkajs lines that are expected in normal operation, demoted to debug: two warnings on every producer
 * start (retries are bounded on purpose: fail loudly, the caller retries; the partitioner is set explicitly),
 * a consumer re-joining its group when another member comes or goes, and retriable protocol errors (a
 * coordinator still loading, a rebalance in progress) that kafkajs retries itself; when its retries run out,
 * the caller's error says so.
 */
const EXPECTED_NOTICES = [
  'Limiting retries for the idempotent producer',
  'KafkaJS v2.0.0 switched default partitioner',
  'Response ',
  'The group is rebalancing, re-joining',
];

/**
 * kafkajs logs every connection and rebalance step at INFO. Route its lines through the structured logger,
 * one line each, prefixed `kafka.`, so they read like the project's own.
 */
export const kafkaLogCreator: logCreator =
  () =>
  ({ level, label, log: entry }) => {
    const { message, timestamp: _timestamp, logger: _logger, stack: _stack, ...rest } = entry;
    const wanted = EXPECTED_NOTICES.some((n) => String(message).startsWith(n))
      ? 'debug'
      : KAFKA_LEVELS[level];
    log(wanted ?? 'info', `kafka.${label.toLowerCase()}`, { message, ...rest });
  };

/** kafkajs's own level: quiet unless LOG_LEVEL=debug asks for its detail. */
export function kafkaLogLevel(): KafkaLogLevel {
  return (process.env.LOG_LEVEL ?? '').toLowerCase() === 'debug' ? KafkaLogLevel.INFO : KafkaLogLevel.WARN;
}
