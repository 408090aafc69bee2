/**
 * Two of the three brokers down (killed with -9, as when two availability zones go away): with
 * min.insync.replicas 2 the broker left refuses writes with NOT_ENOUGH_REPLICAS at once, which is the true
 * answer. The ingest function's transactions meet the transaction coordinator first, which cannot record a
 * transaction either (its log has min.insync.replicas 2 too) and answers CONCURRENT_TRANSACTIONS or
 * COORDINATOR_NOT_AVAILABLE; the function answers with the true reason all the same, well before its
 * deadline; and producing succeeds again when one broker returns. Counted: what was refused is not in the topic, what was acknowledged is, once.
 */
import type { Context } from 'aws-lambda';
import { KafkaJSProtocolError } from 'kafkajs';
import { nginxLines } from '../../lab/compare/records';
import type { IngestResult } from '../../shared/ingest/ingest-lines';
import { closeSharedAtomicProducer, PRODUCE_DEADLINE_MS } from '../../shared/kafka/atomic-producer';
import { disconnectSharedProducer } from '../../shared/kafka/producer';
import { testKafka } from '../helpers/kafka';
import { waitFor } from '../helpers/wait';
import { kafkaCli } from './environment';
import { ingestOnClusterTopics, partitions, storedSequences, tally, healCluster } from './traffic';

jest.setTimeout(600000);

afterAll(async () => {
  await disconnectSharedProducer();
  await closeSharedAtomicProducer();
});

/** Where an error came from: kafkajs wraps the broker's answer in its retry errors as `cause`. */
function brokerAnswer(err: unknown): string | undefined {
  for (let e = err as { type?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e instanceof KafkaJSProtocolError || e.type) return e.type;
  }
  return undefined;
}

it('two brokers down: producing is refused with NOT_ENOUGH_REPLICAS at once, and succeeds when one returns', async () => {
  const { topic, handler } = await ingestOnClusterTopics('two-down');
  const invoke = (first: number, id: string) =>
    handler({ lines: nginxLines(100, first) }, { awsRequestId: id } as Context) as Promise<IngestResult>;

  // A warm container: the function's producer is connected before the brokers go.
  expect((await invoke(0, 'warm')).accepted).toBe(100);

  const survivor = (await partitions(topic))[0]!.leader;
  const victims = [1, 2, 3].filter((n) => n !== survivor);
  // No client retries (kafkajs allows none on an idempotent producer): the broker's first answer is the result.
  const raw = testKafka().producer({ retry: { retries: 0 } });
  await raw.connect();
  try {
    for (const n of victims) {
      expect(await kafkaCli('stop', '--node', String(n), '--kill')).toContain(`node ${n} killed`);
    }
    // The controller fences a broker whose heartbeats stop (broker.session.timeout.ms, 9 s) and takes it
    // out of every in-sync replica set; from then on the survivor leads every partition alone.
    await waitFor(
      async () => (await partitions(topic)).every((p) => p.leader === survivor && p.isr.length === 1),
      'the survivor to lead every partition with an in-sync replica set of one',
      60000,
      500,
    );

    // The broker's own answer, without client retries: refused at once, with the true reason.
    const rawStarted = Date.now();
    const rawError = await raw.send({ topic, acks: -1, messages: [{ key: 'k', value: 'v' }] }).then(
      () => undefined,
      (err: unknown) => err,
    );
    const rawMs = Date.now() - rawStarted;
    expect(brokerAnswer(rawError)).toBe('NOT_ENOUGH_REPLICAS');
    expect(rawMs).toBeLessThan(5000);

    // The ingest function (the project's producer, with its retries) answers with the same reason, before
    // its deadline: not "unavailable" after a timeout.
    const refusedStarted = Date.now();
    const refused = await invoke(1000, 'refused').then(
      () => undefined,
      (err: unknown) => err,
    );
    const refusedMs = Date.now() - refusedStarted;
    expect(refused).toBeInstanceOf(Error);
    expect(refused).toMatchObject({ kind: 'too-few-replicas', stored: 'none' });
    expect((refused as Error).message).toMatch(/fewer in-sync replicas than required/);
    expect(refusedMs).toBeLessThan(PRODUCE_DEADLINE_MS);

    // One broker returns: two in-sync replicas again, and the same function succeeds.
    expect(await kafkaCli('start', '--node', String(victims[0]))).toContain('is answering again');
    await waitFor(
      async () => (await partitions(topic)).every((p) => p.isr.length >= 2),
      'two in-sync replicas for every partition',
      120000,
      500,
    );
    const again = await invoke(2000, 'again');
    expect(again.accepted).toBe(100);

    const stored = tally(await storedSequences(topic));
    const counts = {
      survivor,
      victims,
      rawAnswer: brokerAnswer(rawError),
      rawMs,
      ingestRefusedMs: refusedMs,
      ingestRefusedMessage: (refused as Error).message,
      stored: stored.distinct.size,
      duplicates: stored.duplicates,
    };
    console.log(`two brokers down counts: ${JSON.stringify(counts)}`);
    // The warm batch and the batch after the return are there once; the refused batch is not there at all.
    expect([...stored.distinct].sort((a, b) => a - b)).toEqual([
      ...Array.from({ length: 100 }, (_, i) => i),
      ...Array.from({ length: 100 }, (_, i) => 2000 + i),
    ]);
    expect(stored.duplicates).toBe(0);
  } finally {
    await raw.disconnect();
    await healCluster(topic);
  }
});
