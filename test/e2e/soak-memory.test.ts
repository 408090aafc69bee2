/**
 * The short soak: the local stack as `npm start` runs it (`serverless offline` with every function of
 * serverless.yml, each Kafka consumer group active) takes a generated access log through the shipper, and
 * its memory must not grow with the number of records. serverless-offline 13.9 unpatched kept every event
 * it delivered (about 6 KiB of resident memory per record and group): there this test fails. The long run
 * with the figures is `npm run bench -- soak`.
 */
import { loadConfig } from '../../shared/config';
import { defaultRedisOptions } from '../../local-redis/launcher';
import { peakRss, runSoak, sampleAt } from '../../bench/soak-run';
import { freePort } from '../helpers/ports';

jest.setTimeout(240000);

const LINES = 15000;
/** What serverless offline's resident set may add between half the log and all of it (kept events: ~150 MiB). */
const GROWTH_LIMIT_MIB = 128;
/** What its main thread's live heap may hold at the end beyond what it held at 10 % (kept events: ~75 MiB). */
const HEAP_GROWTH_LIMIT_MIB = 32;
/** The resident set it may reach at all (the stated bound in docs/local-event-source.md). */
const RSS_LIMIT_MIB = 1024;

it(`memory of serverless offline stays flat while ${LINES.toLocaleString('en-US')} records pass every consumer group, and each group handles each record`, async () => {
  const result = await runSoak({
    lines: LINES,
    brokers: loadConfig().brokers,
    redisUrl: defaultRedisOptions().url,
    httpPort: await freePort(),
    lambdaPort: await freePort(),
    snsEndpoint: `http://127.0.0.1:${await freePort()}`,
    sampleEveryMs: 2000,
    drainTimeoutMs: 120000,
    liveHeap: true,
  });
  const memory = (share: number) => sampleAt(result.samples, share)?.processes['serverless offline'];
  const report = `serverless offline at 10 %, 50 %, 100 %: ${[0.1, 0.5, 1]
    .map((share) => `RSS ${memory(share)?.rssMiB.toFixed(0)} heap ${memory(share)?.heapMiB?.toFixed(0)} MiB`)
    .join('; ')}; groups ${JSON.stringify(result.groups)}`;

  expect(result.produced).toBe(LINES);
  for (const group of result.groups) {
    expect({ group: group.group, missing: group.missing, handled: group.handled }).toEqual({
      group: group.group,
      missing: 0,
      handled: LINES,
    });
  }
  const [at10, at50, at100] = [memory(0.1), memory(0.5), memory(1)];
  expect(at10?.heapMiB && at50 && at100?.heapMiB).toBeTruthy();
  const peak = peakRss(result.samples)['serverless offline']!;
  // The figures go into the failure, so a failing run says how much it grew.
  expect({
    rssGrowthBelowLimit: at100!.rssMiB - at50!.rssMiB < GROWTH_LIMIT_MIB,
    heapGrowthBelowLimit: at100!.heapMiB! - at10!.heapMiB! < HEAP_GROWTH_LIMIT_MIB,
    peakBelowLimit: peak < RSS_LIMIT_MIB,
    report,
  }).toEqual({ rssGrowthBelowLimit: true, heapGrowthBelowLimit: true, peakBelowLimit: true, report });
});
