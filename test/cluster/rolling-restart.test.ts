/**
 * A rolling restart of all three brokers, as Amazon MSK patches a cluster: one broker at a time is stopped
 * (controlled shutdown) and started again, the next only once every replica is back in sync, while the ingest
 * function takes steady traffic and the local event source consumes. Counted: nothing acknowledged is lost,
 * the consumer handles every record and its group ends with no lag (no stuck consumer).
 */
import type { KafkaEventSource } from 'serverless-offline-kafka/event-source';
import { closeSharedAtomicProducer } from '../../shared/kafka/atomic-producer';
import { disconnectSharedProducer } from '../../shared/kafka/producer';
import { uniqueName } from '../helpers/kafka';
import { waitFor } from '../helpers/wait';
import { kafkaCli, NODES } from './environment';
import {
  ingestOnClusterTopics,
  groupLag,
  copiesOfDuplicates,
  healCluster,
  IngestLoad,
  missing,
  storedRecords,
  sourceWarnings,
  subscribe,
  tally,
  waitForFullIsr,
} from './traffic';

jest.setTimeout(900000);

let source: KafkaEventSource | undefined;

afterAll(async () => {
  await source?.stop();
  await disconnectSharedProducer();
  await closeSharedAtomicProducer();
});

it('a rolling restart of all three brokers under steady traffic loses nothing and leaves no stuck consumer', async () => {
  const { topic, handler } = await ingestOnClusterTopics('rolling');

  const handled: number[] = [];
  const group = uniqueName('rolling');
  source = subscribe(topic, group, 'rolling', handled);
  await source.start();

  const ingest = new IngestLoad(handler, { concurrency: 2, linesPerRequest: 50, firstSequence: 0 }).start();
  const restarted: Array<{ node: number; acknowledgedWhileDown: number }> = [];
  try {
    await ingest.acknowledgedMore(500, 'traffic before the restarts');
    for (let node = 1; node <= NODES; node++) {
      expect(await kafkaCli('stop', '--node', String(node))).toContain(`node ${node} stopped`);
      const before = ingest.acknowledged.length;
      // The two brokers left take the traffic: min.insync.replicas 2 is still met.
      await ingest.acknowledgedMore(300, `acknowledgements while broker ${node} is down`, 180000);
      restarted.push({ node, acknowledgedWhileDown: ingest.acknowledged.length - before });
      expect(await kafkaCli('start', '--node', String(node))).toContain(`node ${node} is answering again`);
      await waitForFullIsr(topic);
    }
    await ingest.acknowledgedMore(300, 'traffic after the restarts');
    await ingest.stop();

    const records = await storedRecords(topic);
    const stored = tally(records.map((r) => r.seq));
    await waitFor(
      () => missing(stored.distinct, tally(handled).distinct).length === 0,
      `the consumer to handle all ${stored.distinct.size} stored records`,
      180000,
      500,
    );
    // Commits follow the handled batches: the group's lag drains to zero.
    let lastLag = -1;
    await waitFor(
      async () => (lastLag = await groupLag(topic, group)) === 0,
      'the group to have no lag',
      60000,
      500,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message} (${lastLag} records not committed); event source: ${sourceWarnings.join(' | ')}`,
      );
    });
    const handledTally = tally(handled);
    const lost = missing(ingest.acknowledged, stored.distinct);
    const counts = {
      acknowledged: ingest.acknowledged.length,
      failed: ingest.failed.length,
      errors: [...new Set(ingest.errors)],
      restarted,
      stored: stored.distinct.size,
      lostAcknowledged: lost.length,
      storedDuplicates: stored.duplicates,
      duplicateCopies: copiesOfDuplicates(records),
      handled: handled.length,
      handledDistinct: handledTally.distinct.size,
      handledDuplicates: handledTally.duplicates,
      rejoinsForCommits: source.rejoinsForCommits,
    };
    console.log(`rolling restart counts: ${JSON.stringify(counts)}`);

    // Every acknowledged line stored once; a request answered "nothing stored" left nothing (one answered
    // "stored: unknown" may be there).
    expect(lost).toEqual([]);
    expect(stored.duplicates).toBe(0);
    expect(ingest.storedDespiteNone(stored.distinct)).toEqual([]);
    expect(handledTally.distinct).toEqual(stored.distinct);
    expect(handledTally.duplicates).toBeLessThan(stored.distinct.size);
  } finally {
    await ingest.stop();
    await healCluster(topic);
  }
});
