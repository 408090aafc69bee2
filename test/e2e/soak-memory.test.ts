/**
 * The short soak: the local stack as `npm start` runs it (`serverless offline` with every function of
 * serverless.yml, each Kafka consumer group active) takes N generated access-log lines through the shipper,
 * then 3N more, and what serverless offline keeps must not grow with the number of records. Its main
 * thread's heap and Buffers are sampled after full collections (`--expose-gc`), so the figures are what it
 * holds, not garbage waiting to be collected. The long run with the figures for the docs is
 * `npm run bench -- soak`.
 *
 * What fails it (measured with N = 4,000): serverless-offline 13.9 unpatched keeps every event it delivered
 * (+153 MiB between the phases); an event source that keeps every record it fetched (+51 MiB). The patched
 * stack stays within 0.2 MiB (three runs, with the probe's two collections; one collection left the
 * Buffers that died last in `external`, and its readings wandered by ±10 MiB). An event source that fetches without pausing holds the lag instead, which at
 * this size (6,000–12,000 records a group) is about what its pollers may hold anyway: the benchmark's long
 * runs, with lags of 100,000 and more, are where that shows.
 */
import { loadConfig } from '../../shared/config';
import { defaultRedisOptions } from '../../local/redis/launcher';
import { peakRss, runSoak, type OfflineMemory } from '../../lab/load/soak';
import { freePort } from '../helpers/ports';

jest.setTimeout(300000);

const N = 4000;
/**
 * What serverless offline's live memory (main-thread heap + Buffers) may gain between having handled N
 * records and having handled 4N, both measured once every group was done: an allowance for what warms up
 * (compiled code, pools), far below what keeping 3N more records takes (3N × 3 groups × about 1.3 KiB).
 */
const SETTLED_GROWTH_LIMIT_MIB = 10;
/**
 * How far above that its live memory may rise while records wait, the bound it stands for: what the event
 * source may hold for the three groups (9 partition pollers × (two batches of 1,000 + one 1 MiB fetch), about
 * 42 MiB as objects if every poller were full at once), plus the four functions' invocations in flight (events
 * of about 1.1 MB). Measured: 19–29 MiB above rest (three runs, load average 3–4).
 */
const HELD_LIMIT_MIB = 47;
/** The resident set it may reach at all (the stated bound in docs/local-event-source.md). */
const RSS_LIMIT_MIB = 1024;
/**
 * The second phase must make the groups lag (3,000 records). With batches of 1,000 that is about half of
 * what a group's pollers hold before pausing (3 × 2,000); the pausing itself is the package's conformance
 * test's subject ("holds no more than two batches plus one fetch per partition").
 */
const MIN_SECOND_PHASE_LAG = 3000;

it(`serverless offline holds no more after ${(4 * N).toLocaleString('en-US')} records than after ${N.toLocaleString('en-US')}, and every consumer group handles every record`, async () => {
  const result = await runSoak({
    phases: [N, 3 * N],
    brokers: loadConfig().brokers,
    redisUrl: defaultRedisOptions().url,
    httpPort: await freePort(),
    lambdaPort: await freePort(),
    snsEndpoint: `http://127.0.0.1:${await freePort()}`,
    sampleEveryMs: 1000,
    drainTimeoutMs: 120000,
    liveHeap: true,
    brokerHeap: false,
  });
  const [first, second] = result.phases;
  const live = (m: OfflineMemory) => m.heapMiB + m.externalMiB;
  const report =
    result.phases
      .map(
        (p, i) =>
          `after phase ${i + 1} (${p.produced} records, max lag ${p.maxLag}): heap + external ` +
          `peak ${live(p.peak).toFixed(1)} MiB (heap ${p.peak.heapMiB.toFixed(1)}), settled ${live(p.settled).toFixed(1)} MiB ` +
          `(heap ${p.settled.heapMiB.toFixed(1)}), RSS peak ${p.peak.rssMiB.toFixed(0)} MiB`,
      )
      .join('; ') +
    `; ${result.groups.map((g) => `${g.group.replace(/^soak-[0-9a-f]+-/, '')} handled ${g.handled}, duplicates ${g.duplicates}, missing ${g.missing}`).join('; ')}`;
  console.log(`soak: ${report}`);

  // Every record shipped is in the topic, and each group handled each of them at least once.
  expect(result.produced).toBe(4 * N);
  for (const group of result.groups) {
    expect({ group: group.group, missing: group.missing, handled: group.handled }).toEqual({
      group: group.group,
      missing: 0,
      handled: 4 * N,
    });
  }
  expect(first?.drained && second?.drained).toBe(true);
  expect(second!.maxLag).toBeGreaterThan(MIN_SECOND_PHASE_LAG);
  const peak = peakRss(result.samples)['serverless offline']!;
  const rest = live(first!.settled);
  // The figures go into the failure, so a failing run says how much it grew.
  expect({
    settledGrowthBelowLimit: live(second!.settled) - rest < SETTLED_GROWTH_LIMIT_MIB,
    heldBelowLimit: Math.max(live(first!.peak), live(second!.peak)) - rest < HELD_LIMIT_MIB,
    rssBelowLimit: peak < RSS_LIMIT_MIB,
    report,
  }).toEqual({ settledGrowthBelowLimit: true, heldBelowLimit: true, rssBelowLimit: true, report });
});
