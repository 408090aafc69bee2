/**
 * The local Kafka event source consumes in two groups (one function alone, two functions sharing a group)
 * while the ingest function produces and the leader of a busy partition is killed with -9. Counted: every
 * stored record handled by each group; duplicates only as Lambda's at-least-once delivery allows, and counted.
 */
import type { KafkaEventSource } from 'serverless-offline-kafka/event-source';
import { closeSharedAtomicProducer } from '../../shared/kafka/atomic-producer';
import { disconnectSharedProducer } from '../../shared/kafka/producer';
import { uniqueName } from '../helpers/kafka';
import { waitFor } from '../helpers/wait';
import { kafkaCli } from './environment';
import {
  ingestOnClusterTopics,
  copiesOfDuplicates,
  healCluster,
  IngestLoad,
  missing,
  partitions,
  partitionsOf,
  storedRecords,
  subscribe,
  tally,
} from './traffic';

jest.setTimeout(600000);

const sources: KafkaEventSource[] = [];

afterAll(async () => {
  await Promise.all(sources.map((s) => s.stop()));
  await disconnectSharedProducer();
  await closeSharedAtomicProducer();
});

function source(topic: string, group: string, key: string, handled: number[]): KafkaEventSource {
  const s = subscribe(topic, group, key, handled);
  sources.push(s);
  return s;
}

it('two consumer groups each handle every record while a partition leader is killed with -9', async () => {
  const { topic, handler } = await ingestOnClusterTopics('failover-source');

  const alone: number[] = [];
  const sharedA: number[] = [];
  const sharedB: number[] = [];
  const groupAlone = uniqueName('alone');
  const groupShared = uniqueName('shared');
  await source(topic, groupAlone, 'alone', alone).start();
  await source(topic, groupShared, 'sharedA', sharedA).start();
  await source(topic, groupShared, 'sharedB', sharedB).start();

  const ingest = new IngestLoad(handler, { concurrency: 3, linesPerRequest: 100, firstSequence: 0 }).start();
  try {
    await ingest.acknowledgedMore(1500, 'traffic before the kill');
    await waitFor(() => alone.length > 0 && sharedA.length + sharedB.length > 0, 'both groups consuming');

    const victim = (await partitions(topic))[0]!.leader;
    const victimLed = (await partitions(topic)).filter((p) => p.leader === victim).map((p) => p.partition);
    expect(await kafkaCli('stop', '--node', String(victim), '--kill')).toContain(`node ${victim} killed`);
    await ingest.acknowledgedMore(1500, 'acknowledgements after the leader was killed', 180000);
    await ingest.stop();

    const records = await storedRecords(topic);
    const stored = tally(records.map((r) => r.seq));
    const lost = missing(ingest.acknowledged, stored.distinct);
    const everyStored = [...stored.distinct];
    const handledBy = (seqs: number[]) => tally(seqs);
    await waitFor(
      () =>
        missing(everyStored, handledBy(alone).distinct).length === 0 &&
        missing(everyStored, handledBy([...sharedA, ...sharedB]).distinct).length === 0,
      `both groups to handle all ${everyStored.length} stored records`,
      180000,
      500,
    );
    const aloneTally = handledBy(alone);
    const sharedTally = handledBy([...sharedA, ...sharedB]);
    const counts = {
      victim,
      acknowledged: ingest.acknowledged.length,
      failed: ingest.failed.length,
      errors: [...new Set(ingest.errors)],
      stored: stored.distinct.size,
      victimLed,
      lostAcknowledged: lost.length,
      lostOnPartitions: partitionsOf(lost, records),
      storedDuplicates: stored.duplicates,
      duplicateCopies: copiesOfDuplicates(records),
      alone: {
        deliveries: alone.length,
        distinct: aloneTally.distinct.size,
        duplicates: aloneTally.duplicates,
      },
      shared: {
        deliveries: sharedA.length + sharedB.length,
        distinct: sharedTally.distinct.size,
        duplicates: sharedTally.duplicates,
        split: [tally(sharedA).distinct.size, tally(sharedB).distinct.size],
      },
    };
    console.log(`event source failover counts: ${JSON.stringify(counts)}`);

    // Every line the ingest function acknowledged is stored once; a request answered "nothing stored" left
    // nothing (one answered "stored: unknown" may be there).
    expect(lost).toEqual([]);
    expect(stored.duplicates).toBe(0);
    expect(ingest.storedDespiteNone(stored.distinct)).toEqual([]);
    // Each group handled exactly the stored records; nothing it handled came from anywhere else.
    expect(aloneTally.distinct).toEqual(stored.distinct);
    expect(sharedTally.distinct).toEqual(stored.distinct);
    // Redelivery is at-least-once, as on Lambda: bounded by what was stored, never a second full pass.
    expect(aloneTally.duplicates).toBeLessThan(stored.distinct.size);
    expect(sharedTally.duplicates).toBeLessThan(stored.distinct.size);
  } finally {
    await ingest.stop();
    await healCluster(topic);
  }
});
