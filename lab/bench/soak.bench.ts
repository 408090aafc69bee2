/**
 * `npm run bench -- soak [--lines=N]`: millions of real-shaped access-log lines (2,000,000 by default)
 * shipped into the running local stack — `serverless offline` with every function of serverless.yml, each
 * Kafka consumer group active — while the resident set and heap of every process are sampled. Prints
 * records/s and lag per group, every record handled by every group (duplicates and misses counted), and
 * the memory of each process at 10 %, 50 % and 100 % of the log. Needs the broker and Redis
 * (`npm run kafka:start`, `npm run redis:start`); LOCAL_KAFKA_PORT / KAFKA_BROKERS, REDIS_URL /
 * LOCAL_REDIS_PORT, OFFLINE_HTTP_PORT, OFFLINE_LAMBDA_PORT and SNS_EMULATOR_PORT pick the ports.
 */
import { loadavg } from 'node:os';
import { runningBrokerAndRedis, count, flag, table } from './lib';
import type { Benchmark } from './run';
import { peakRss, runSoak, sampleAt } from '../load/soak';

const mib = (n: number | undefined) => (n === undefined ? '–' : n.toFixed(0));

const bench: Benchmark = {
  title: 'the local stack under millions of records: memory of every process, and every record handled',
  async run(args) {
    const lines = flag(args, 'lines', 2000000);
    const { brokers, redisUrl } = await runningBrokerAndRedis();
    const load = () =>
      loadavg()
        .map((l) => l.toFixed(2))
        .join(' ');
    const loadBefore = load();
    const snsPort = process.env.SNS_EMULATOR_PORT;
    const result = await runSoak({
      phases: [lines],
      brokers,
      redisUrl,
      httpPort: Number(process.env.OFFLINE_HTTP_PORT || 3000),
      lambdaPort: Number(process.env.OFFLINE_LAMBDA_PORT || 3002),
      snsEndpoint: snsPort ? `http://127.0.0.1:${snsPort}` : undefined,
      say: (line) => console.error(line),
    });
    console.log(`load average before ${loadBefore}, after ${load()} (1, 5, 15 min)`);
    console.log(`${result.shipSummary}`);
    console.log(`${count(result.produced)} records in the topic; soak ${result.seconds.toFixed(0)} s\n`);
    console.log(
      table([
        ['group', 'functions', 'handled', 'duplicates', 'missing', 'records/s', 'max lag'],
        ...result.groups.map((g) => [
          g.group.replace(/^soak-[0-9a-f]+-/, ''),
          g.functions.join(' + '),
          count(g.handled),
          count(g.duplicates),
          count(g.missing),
          count(g.recordsPerSecond),
          count(g.maxLag),
        ]),
      ]),
    );
    const at = [0.1, 0.5, 1].map((share) => sampleAt(result.samples, share));
    const peak = peakRss(result.samples);
    console.log('');
    console.log(
      table([
        ['process', 'RSS MiB at 10 %', '50 %', '100 %', 'peak RSS', 'heap MiB at 10 %', '50 %', '100 %'],
        ...Object.keys(peak).map((name) => [
          name,
          ...at.map((s) => mib(s?.processes[name]?.rssMiB)),
          mib(peak[name]),
          ...at.map((s) => mib(s?.processes[name]?.heapMiB)),
        ]),
      ]),
    );
    const lost = result.groups.filter((g) => g.missing > 0);
    console.log(
      lost.length === 0
        ? `\nEvery group handled all ${count(result.produced)} records (at least once).`
        : `\nNOT HANDLED: ${lost.map((g) => `${g.group} missed ${count(g.missing)}`).join(', ')}`,
    );
    if (lost.length > 0) process.exitCode = 1;
  },
};

export = bench;
