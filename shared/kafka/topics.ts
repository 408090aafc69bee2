/**
 * The topics the project needs, created idempotently. A topic that already exists with fewer partitions
 * than wanted (a broker's auto-created default of one) gets more, since a consumer group can only split
 * partitions between its members.
 */
import type { Admin, ITopicConfig } from 'kafkajs';
import { alertsConfig } from '../alerts/config';
import { loadConfig } from '../config';

export interface TopicSpec {
  topic: string;
  partitions: number;
  configs?: Record<string, string>;
}

export function projectTopics(env: NodeJS.ProcessEnv = process.env): TopicSpec[] {
  const config = loadConfig(env);
  const partitions = Number(env.KAFKA_PARTITIONS || 3);
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new Error(`KAFKA_PARTITIONS must be a whole number of at least 1, not ${env.KAFKA_PARTITIONS}`);
  }
  return [
    { topic: config.topic, partitions },
    { topic: config.deadLetterTopic, partitions: 1 },
    { topic: alertsConfig(env).topic, partitions: 1 },
  ];
}

export interface TopicOutcome {
  topic: string;
  partitions: number;
  action: 'created' | 'exists' | 'grown';
}

export async function ensureTopics(
  admin: Admin,
  specs: TopicSpec[],
  replicationFactor = 1,
): Promise<TopicOutcome[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length > 0) {
    const topics: ITopicConfig[] = missing.map((s) => ({
      topic: s.topic,
      numPartitions: s.partitions,
      replicationFactor,
      configEntries: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
    }));
    await admin.createTopics({ topics, waitForLeaders: true });
  }
  const outcomes: TopicOutcome[] = [];
  const present = specs.filter((s) => existing.has(s.topic));
  const metadata =
    present.length > 0
      ? await admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) })
      : { topics: [] };
  for (const spec of specs) {
    const found = metadata.topics.find((t) => t.name === spec.topic);
    if (!found) {
      outcomes.push({ topic: spec.topic, partitions: spec.partitions, action: 'created' });
    } else if (found.partitions.length < spec.partitions) {
      await admin.createPartitions({ topicPartitions: [{ topic: spec.topic, count: spec.partitions }] });
      outcomes.push({ topic: spec.topic, partitions: spec.partitions, action: 'grown' });
    } else {
      outcomes.push({ topic: spec.topic, partitions: found.partitions.length, action: 'exists' });
    }
  }
  return outcomes;
}
