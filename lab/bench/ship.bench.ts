/**
 * The shipper against kcat: the same generated access log (1,000,000 lines, and a smaller one to show that
 * memory stays flat as the file grows) sent to the same broker in the same run, each to a fresh topic.
 * Reported: lines/s and peak RSS (VmHWM of the child), and a check that every line arrived. A third row sends
 * the shipper's records through the shipper's producer without reading or parsing anything
 * (ship-client-ceiling.ts): the most the Kafka client itself allows.
 *
 *   npm run bench -- ship [--sizes=250000,1000000] [--batch-size=1000] [--clients=rdkafka,kafkajs,platformatic]
 *                         [--ceilings=rdkafka,kafkajs,platformatic]   (--ceilings= leaves the "alone" rows out)
 *
 * The broker: KAFKA_BROKERS, or the local one on LOCAL_KAFKA_PORT (start it with `npm run kafka:start`).
 */
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { defaultBrokerOptions, kafkaAnswers } from '../../local/kafka/launcher';
import { splitBrokers } from '../../shared/config';
import { createKafka } from '../../shared/kafka/client';
import type { Benchmark } from './run';
import { RDKAFKA_IN_FLIGHT, SHIP_CLIENTS, type ShipClientName } from '../../tools/ship/kafka-clients';
import { SHIPPER_NODE_FLAGS } from '../../tools/ship/node-flags';
import { count, loadAverage, measureCommand, table, type ChildRun } from './lib';

const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Safari/537.36',
  'curl/8.5.0',
  'Go-http-client/1.1',
];
const PATHS = ['/', '/index.html', '/api/items', '/search', '/static/app.js', '/login'];
const STATUSES = [200, 200, 200, 200, 304, 404, 500];

/** Writes `lines` combined-format lines, as nginx would, from 4,096 clients. Returns the byte count. */
function writeAccessLog(file: string, lines: number): number {
  const fd = openSync(file, 'w');
  let bytes = 0;
  let chunk: string[] = [];
  const start = Date.UTC(2026, 11, 1, 10, 0, 0);
  const flush = () => {
    const text = `${chunk.join('\n')}\n`;
    bytes += writeSync(fd, text);
    chunk = [];
  };
  for (let i = 0; i < lines; i++) {
    const t = new Date(start + Math.floor(i / 50) * 1000);
    const time = `${String(t.getUTCDate()).padStart(2, '0')}/Dec/2026:${String(t.getUTCHours()).padStart(2, '0')}:${String(t.getUTCMinutes()).padStart(2, '0')}:${String(t.getUTCSeconds()).padStart(2, '0')} +0000`;
    const client = `10.${(i * 7) % 16}.${(i * 13) % 256}.${(i * 31) % 16}`;
    chunk.push(
      `${client} - - [${time}] "GET ${PATHS[i % PATHS.length]}?id=${i} HTTP/1.1" ${STATUSES[i % STATUSES.length]} ${(i * 37) % 20000} "https://example.com/page/${i % 100}" "${AGENTS[i % AGENTS.length]}"`,
    );
    if (chunk.length === 10000) flush();
  }
  if (chunk.length > 0) flush();
  closeSync(fd);
  return bytes;
}

function option(args: string[], name: string, fallback: string): string {
  const prefix = `--${name}=`;
  return args.find((a) => a.startsWith(prefix))?.slice(prefix.length) ?? fallback;
}

async function withAdmin<T>(brokers: string[], work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = createKafka({ brokers, clientId: 'bench' }).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

async function topicSize(brokers: string[], topic: string): Promise<number> {
  const offsets = await withAdmin(brokers, (admin) => admin.fetchTopicOffsets(topic));
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

async function createTopics(brokers: string[], topics: string[]): Promise<void> {
  await withAdmin(brokers, (admin) =>
    admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })),
      waitForLeaders: true,
    }),
  );
}

async function deleteTopics(brokers: string[], topics: string[]): Promise<void> {
  await withAdmin(brokers, (admin) => admin.deleteTopics({ topics })).catch(() => undefined);
}

const bench: Benchmark = {
  title: 'shipping an access log: nginx-kafka-ship vs kcat -P -l, lines/s and peak RSS',
  async run(args) {
    const brokers = process.env.KAFKA_BROKERS
      ? splitBrokers(process.env.KAFKA_BROKERS)
      : [`127.0.0.1:${defaultBrokerOptions().port}`];
    if (!(await kafkaAnswers(brokers))) {
      console.log(
        `No broker answers on ${brokers.join(',')}: start one with \`npm run kafka:start\` (or set KAFKA_BROKERS).`,
      );
      process.exitCode = 1;
      return;
    }
    const sizes = option(args, 'sizes', '250000,1000000').split(',').map(Number);
    const batchSize = option(args, 'batch-size', '1000');
    const clients = option(args, 'clients', SHIP_CLIENTS.join(',')).split(',') as ShipClientName[];
    const ceilings = option(args, 'ceilings', SHIP_CLIENTS.join(','))
      .split(',')
      .filter((c) => c !== '') as ShipClientName[];
    for (const c of [...clients, ...ceilings]) {
      if (!SHIP_CLIENTS.includes(c))
        throw new Error(`no Kafka client ${c}; there are ${SHIP_CLIENTS.join(', ')}`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'ship-bench-'));
    const rows: Array<Array<string | number>> = [
      ['lines', 'MiB', 'tool', 'seconds', 'lines/s', 'peak RSS MiB', 'in topic', '/ kcat', '/ kafkajs ship'],
    ];
    try {
      for (const lines of sizes) {
        const file = join(dir, `access-${lines}.log`);
        const bytes = writeAccessLog(file, lines);
        const id = randomUUID().slice(0, 8);
        const topicOf = (tool: string) => `bench-${tool}-${id}`;
        const topics = [
          ...clients.flatMap((c) => [topicOf(`ship-${c}`), `${topicOf(`ship-${c}`)}-dlq`]),
          topicOf('kcat'),
          ...ceilings.map((c) => topicOf(`alone-${c}`)),
        ];
        await createTopics(brokers, topics);
        try {
          const env = (topic: string) => ({
            KAFKA_BROKERS: brokers.join(','),
            KAFKA_TOPIC: topic,
            KAFKA_DLQ_TOPIC: `${topic}-dlq`,
            LOG_LEVEL: 'warn',
          });
          const measured: Array<{ tool: string; run: ChildRun; topic: string }> = [];
          for (const client of clients) {
            // As `npm run ship` and the bin's #! line run it (tools/ship/node-flags.ts).
            const run = await measureCommand(
              process.execPath,
              [
                ...SHIPPER_NODE_FLAGS,
                join(__dirname, '..', '..', 'tools', 'ship', 'cli.js'),
                file,
                '--client',
                client,
                '--batch-size',
                batchSize,
                '--no-progress',
              ],
              { env: env(topicOf(`ship-${client}`)) },
            );
            if (run.exitCode !== 0)
              throw new Error(`the shipper (${client}) failed: ${run.stderr}${run.stdout}`);
            // A client that cannot be used here is replaced by kafkajs with a warning: not a row of its own.
            if (run.stderr.includes('"ship.client"'))
              throw new Error(`--client ${client} was not used: ${run.stderr.trim()}`);
            measured.push({
              tool: `nginx-kafka-ship --client ${client}`,
              run,
              topic: topicOf(`ship-${client}`),
            });
          }
          const kcat = await measureCommand('kcat', [
            '-P',
            '-b',
            brokers.join(','),
            '-t',
            topicOf('kcat'),
            '-l',
            file,
          ]);
          if (kcat.exitCode !== 0) throw new Error(`kcat failed: ${kcat.stderr}`);
          measured.push({ tool: 'kcat -P -l', run: kcat, topic: topicOf('kcat') });
          for (const client of ceilings) {
            const run = await measureCommand(
              process.execPath,
              [
                ...SHIPPER_NODE_FLAGS,
                join(__dirname, 'ship-client-ceiling.js'),
                file,
                String(lines),
                batchSize,
                client,
              ],
              { env: env(topicOf(`alone-${client}`)) },
            );
            if (run.exitCode !== 0) throw new Error(`the ${client} ceiling run failed: ${run.stderr}`);
            measured.push({ tool: `${client} alone`, run, topic: topicOf(`alone-${client}`) });
          }
          const rateOf = (run: ChildRun) => lines / run.seconds;
          const kcatRate = rateOf(kcat);
          const baseline = measured.find((m) => m.tool.endsWith('--client kafkajs'));
          const mib = (bytes / 2 ** 20).toFixed(0);
          for (const { tool, run, topic } of measured) {
            const rate = rateOf(run);
            rows.push([
              count(lines),
              mib,
              tool,
              run.seconds.toFixed(1),
              count(rate),
              run.peakRssMiB.toFixed(0),
              count(await topicSize(brokers, topic)),
              run === kcat ? '' : `${((100 * rate) / kcatRate).toFixed(0)} %`,
              baseline && run !== kcat ? `${(rate / rateOf(baseline.run)).toFixed(2)} ×` : '',
            ]);
          }
        } finally {
          await deleteTopics(brokers, topics);
          rmSync(file, { force: true });
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(table(rows));
    console.log(
      `\n${loadAverage()} after the runs. nginx-kafka-ship parses every line, writes the JSON record keyed by` +
        ` client address and waits for acks=all per batch of ${batchSize} lines (idempotent producer) through the` +
        ` client named, with ${RDKAFKA_IN_FLIGHT} batches on their way for rdkafka and 1 for the others; kcat sends each line as it is, unkeyed (librdkafka). "<client>` +
        ` alone" sends the shipper's records, encoded once, through that client's shipper producer with nothing` +
        ` read or parsed: the client's own ceiling. Wall-clock seconds include process start and connecting.`,
    );
  },
};

// The runner imports the module and takes its default export: module.exports itself under CommonJS.
export = bench;
