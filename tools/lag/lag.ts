/**
 * Consumer lag per group and partition: how far each consumer group's committed offset is behind the end of
 * the log. Used by `npm run lag` against the local broker and by the MSK helper against a cluster.
 */
import type { Admin } from 'kafkajs';
import { table } from '../common/table';

export interface LagRow {
  group: string;
  topic: string;
  partition: number;
  /** The group's committed offset, or null when it has committed nothing for the partition. */
  committed: number | null;
  /** The log end offset (high watermark). */
  end: number;
  /** Records not yet committed by the group (all of them when it never committed). */
  lag: number;
}

/** Lag of the given groups (default: every consumer group) on the given topics (default: all they read). */
export async function consumerLag(
  admin: Admin,
  options: { groups?: string[]; topics?: string[] } = {},
): Promise<LagRow[]> {
  const groups =
    options.groups ??
    (await admin.listGroups()).groups.filter((g) => g.protocolType === 'consumer').map((g) => g.groupId);
  const ends = new Map<string, Map<number, number>>();
  const endsOf = async (topic: string) => {
    let byPartition = ends.get(topic);
    if (!byPartition) {
      byPartition = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
      ends.set(topic, byPartition);
    }
    return byPartition;
  };
  const rows: LagRow[] = [];
  for (const group of [...groups].sort()) {
    const committed = await admin.fetchOffsets({
      groupId: group,
      ...(options.topics ? { topics: options.topics } : {}),
    });
    for (const { topic, partitions } of committed) {
      const topicEnds = await endsOf(topic);
      for (const { partition, offset } of [...partitions].sort((a, b) => a.partition - b.partition)) {
        const end = topicEnds.get(partition) ?? 0;
        const at = Number(offset) >= 0 ? Number(offset) : null;
        rows.push({ group, topic, partition, committed: at, end, lag: Math.max(0, end - (at ?? 0)) });
      }
    }
  }
  return rows;
}

/** The lag rows as a table with a total, or a sentence saying why there are none; one text for every CLI. */
export function formatLag(rows: LagRow[], groups: string[]): string {
  if (rows.length === 0) {
    return groups.length > 0 ? `no committed offsets for ${groups.join(', ')}` : 'no consumer groups yet';
  }
  const total = rows.reduce((n, r) => n + r.lag, 0);
  return [
    table([
      ['group', 'topic', 'partition', 'committed', 'end', 'lag'],
      ...rows.map((r) => [r.group, r.topic, r.partition, r.committed ?? '-', r.end, r.lag]),
    ]),
    '',
    `total lag: ${total} record${total === 1 ? '' : 's'}`,
  ].join('\n');
}
