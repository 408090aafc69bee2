/**
 * The group coordinator of the local event source's consumer group moves: its broker is stopped (controlled
 * shutdown hands the group's offsets partition to another broker), the event source keeps consuming, and the
 * broker is started again, answering "not the coordinator" from then on. Counted: after each move the
 * group's commits reach the new coordinator within a bound (no lag left), every stored record is handled,
 * and the copies handled twice (a rejoin redelivers what was not committed, as Lambda's at-least-once
 * delivery allows) are counted.
 */
import type { KafkaEventSource, SourceLog } from 'serverless-offline-kafka/event-source';
import { closeSharedAtomicProducer } from '../../shared/kafka/atomic-producer';
import { disconnectSharedProducer } from '../../shared/kafka/producer';
import { uniqueName, withAdmin } from '../helpers/kafka';
import { waitFor } from '../helpers/wait';
import { kafkaCli } from './environment';
import {
  ingestOnClusterTopics,
  groupLag,
  healCluster,
  IngestLoad,
  missing,
  storedRecords,
  subscribe,
  tally,
  waitForFullIsr,
} from './traffic';

jest.setTimeout(600000);

/** How long commits may take to reach a moved coordinator (kafkajs's own rejoin and the commit retries). */
const COMMITS_RESUME_WITHIN_MS = 30000;

let source: KafkaEventSource | undefined;

afterAll(async () => {
  await source?.stop();
  await disconnectSharedProducer();
  await closeSharedAtomicProducer();
});

const OFFSETS_TOPIC = '__consumer_offsets';

/**
 * The partition of the offsets topic that holds a group, as the broker picks it: the group id's Java
 * String.hashCode, made non-negative as Kafka's Utils.abs does, modulo the topic's partition count.
 */
function offsetsPartitionOf(groupId: string, partitionCount: number): number {
  let hash = 0;
  for (let i = 0; i < groupId.length; i++) hash = (Math.imul(31, hash) + groupId.charCodeAt(i)) | 0;
  const abs = hash === -2147483648 ? 0 : Math.abs(hash);
  return abs % partitionCount;
}

/** The group's coordinator (the leader of its offsets partition) and that partition's in-sync replicas. */
async function coordinatorOf(groupId: string): Promise<{ node: number; isr: number[] }> {
  const metadata = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [OFFSETS_TOPIC] }));
  const offsetPartitions = metadata.topics[0]!.partitions;
  const wanted = offsetsPartitionOf(groupId, offsetPartitions.length);
  const p = offsetPartitions.find((q) => q.partitionId === wanted)!;
  return { node: p.leader, isr: p.isr };
}

it('commits reach the group coordinator again after it moved to another broker and its old broker came back', async () => {
  const { topic, handler } = await ingestOnClusterTopics('coordinator');

  const joins: string[] = [];
  const warnings: string[] = [];
  const log: SourceLog = {
    notice: (line) => void (line.includes(' joined group ') && joins.push(line)),
    warning: (line) => void (warnings.length < 50 && warnings.push(line)),
    error: (line) => void (warnings.length < 50 && warnings.push(line)),
  };
  const handled: number[] = [];
  const group = uniqueName('coordinator');
  source = subscribe(topic, group, 'coordinator', handled, log);
  await source.start();

  const loads: IngestLoad[] = [];
  /** Lines through the ingest function, acknowledged, then the callers stop. */
  const traffic = async (lines: number, what: string): Promise<void> => {
    const load = new IngestLoad(handler, {
      concurrency: 1,
      linesPerRequest: 50,
      firstSequence: loads.length * 1000000,
    });
    loads.push(load.start());
    try {
      await load.acknowledgedMore(lines, what, 180000);
    } finally {
      await load.stop();
    }
  };
  /** Every stored record handled, then the group's lag at zero within the bound. */
  const drained = async (when: string): Promise<void> => {
    const stored = tally((await storedRecords(topic)).map((r) => r.seq));
    await waitFor(
      () => missing(stored.distinct, tally(handled).distinct).length === 0,
      `the consumer to handle all ${stored.distinct.size} stored records ${when}`,
      120000,
      250,
    );
    let lastLag = -1;
    await waitFor(
      async () => (lastLag = await groupLag(topic, group)) === 0,
      `the group to have no lag ${when}`,
      COMMITS_RESUME_WITHIN_MS,
      250,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message} (${lastLag} records not committed; ${joins.length} joins); event source: ${warnings.join(' | ')}`,
      );
    });
  };

  const moves: Array<{ from: number; to: number; back: number }> = [];
  try {
    await traffic(300, 'traffic before the coordinator moves');
    await drained('before the coordinator moves');

    const before = (await coordinatorOf(group)).node;
    expect(await kafkaCli('stop', '--node', String(before))).toContain(`node ${before} stopped`);
    let moved = -1;
    await waitFor(
      async () => {
        moved = (await coordinatorOf(group)).node;
        return moved >= 0 && moved !== before;
      },
      `the coordinator of ${group} to move away from broker ${before}`,
      60000,
      250,
    );
    await traffic(300, `traffic while broker ${before} is down`);
    await drained(`while broker ${before}, the coordinator before, is down`);

    expect(await kafkaCli('start', '--node', String(before))).toContain(`node ${before} is answering again`);
    await waitForFullIsr(topic);
    await waitFor(
      async () => (await coordinatorOf(group)).isr.includes(before),
      `broker ${before} to be in sync on the offsets partition of ${group} again`,
      120000,
      250,
    );
    const back = (await coordinatorOf(group)).node;
    moves.push({ from: before, to: moved, back });
    await traffic(300, `traffic after broker ${before} came back`);
    await drained(`after broker ${before} came back`);

    const records = await storedRecords(topic);
    const stored = tally(records.map((r) => r.seq));
    const acknowledged = loads.flatMap((l) => l.acknowledged);
    const handledTally = tally(handled);
    const counts = {
      moves,
      acknowledged: acknowledged.length,
      failed: loads.reduce((n, l) => n + l.failed.length, 0),
      stored: stored.distinct.size,
      storedDuplicates: stored.duplicates,
      handled: handled.length,
      handledDistinct: handledTally.distinct.size,
      handledDuplicates: handledTally.duplicates,
      joins: joins.length,
      rejoinsForCommits: source.rejoinsForCommits,
      commitWarnings: warnings.filter((w) => w.includes('could not commit')).length,
    };
    console.log(`coordinator move counts: ${JSON.stringify(counts)}`);

    expect(missing(acknowledged, stored.distinct)).toEqual([]);
    expect(handledTally.distinct).toEqual(stored.distinct);
    // Redelivery only of what a new generation found uncommitted: fewer copies than records.
    expect(handledTally.duplicates).toBeLessThan(stored.distinct.size);
  } finally {
    await Promise.all(loads.map((l) => l.stop()));
    await healCluster(topic);
  }
});
