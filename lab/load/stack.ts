/** What a run of the local stack under load shares: its own names, and the event source's invocation lines. */
/**
 * The environment that gives one run of the local stack a topic, dead-letter and alerts topics, consumer
 * groups and analytics prefix of its own, so that it never counts another run's records.
 */
export function isolatedStackEnv(id: string, brokers: string[], redisUrl: string) {
  return {
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_TOPIC: id,
    KAFKA_DLQ_TOPIC: `${id}-dlq`,
    KAFKA_ALERTS_TOPIC: `${id}-alerts`,
    KAFKA_GROUP_PREFIX: `${id}-`,
    ANALYTICS_PREFIX: id,
    REDIS_URL: redisUrl,
  };
}

export interface Invocation {
  functionKey: string;
  group: string;
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
  count: number;
  durationMs: number;
  ok: boolean;
}

// `(λ: fn) Kafka group g  topic-p offsets a..b  n records  Duration: d ms  OK`: the event source's line.
const INVOCATION =
  /^\(λ: (\S+)\) Kafka group (\S+) {2}(\S+)-(\d+) offsets (\d+)\.\.(\d+) {2}(\d+) records? {2}Duration: ([\d.]+) ms {2}(\S+)/;

/** One invocation line of the local Kafka event source, or undefined for any other line. */
export function parseInvocation(line: string): Invocation | undefined {
  const m = INVOCATION.exec(line);
  if (!m) return undefined;
  return {
    functionKey: m[1]!,
    group: m[2]!,
    topic: m[3]!,
    partition: Number(m[4]),
    firstOffset: Number(m[5]),
    lastOffset: Number(m[6]),
    count: Number(m[7]),
    durationMs: Number(m[8]),
    ok: m[9] === 'OK',
  };
}
