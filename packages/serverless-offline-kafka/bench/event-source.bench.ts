/**
 * Records per second that the local Kafka event source delivers into a no-op function, side by side with
 * `kcat -C` reading the same topic from the beginning on the same broker. Needs a running broker:
 * --brokers=host:port (or KAFKA_BROKERS; 127.0.0.1:9092 by default). Flags: --records=N (default 200000),
 * --partitions=N (default 3), --size=BYTES of each value (default 300).
 *
 *   npm run bench -w serverless-offline-kafka -- --records=100000
 *
 * The project's `npm run bench` runs it too, beside its other benchmarks.
 */
import { randomUUID } from 'node:crypto';
import { parseKafkaEventDefinition } from 'serverless-offline-kafka/event-definition';
import { KafkaEventSource, type SourceLog } from 'serverless-offline-kafka/event-source';
import { benchBrokers, benchKafka, brokerAnswers, count, countLines, flag, machineLine, table } from './lib';
import { kcatReadArgs } from './kcat';

const quiet: SourceLog = {
  notice: () => undefined,
  warning: () => undefined,
  error: (l) => console.error(l),
};

async function fill(
  brokers: string[],
  topic: string,
  records: number,
  partitions: number,
  size: number,
): Promise<void> {
  const kafka = benchKafka(brokers, 'bench');
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer();
  await producer.connect();
  try {
    const filler = 'x'.repeat(Math.max(0, size - 120));
    for (let sent = 0; sent < records;) {
      const n = Math.min(5000, records - sent);
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: n }, (_, i) => ({
          key: `10.0.${(sent + i) % 250}.${(sent + i) % 7}`,
          value: JSON.stringify({ i: sent + i, status: 200, path: '/index.html', filler }),
        })),
      });
      sent += n;
    }
  } finally {
    await producer.disconnect();
  }
}

interface SourceRun {
  /** From start() to the last record delivered. */
  seconds: number;
  /** From the first record delivered to the last: the rate once the group is joined. */
  steadySeconds: number;
}

async function viaEventSource(
  brokers: string[],
  topic: string,
  records: number,
  batchSize: number,
): Promise<SourceRun> {
  const definition = parseKafkaEventDefinition(
    'bench',
    'msk',
    { topic, batchSize, maximumBatchingWindow: 0.5, consumerGroupId: `bench-${randomUUID().slice(0, 8)}` },
    'bench',
  );
  let delivered = 0;
  let first: bigint | undefined;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const source = new KafkaEventSource(
    definition,
    benchKafka(brokers, 'bench-source'),
    brokers,
    async (event) => {
      first ??= process.hrtime.bigint();
      for (const list of Object.values((event as { records: Record<string, unknown[]> }).records)) {
        delivered += list.length;
      }
      if (delivered >= records) done();
    },
    quiet,
  );
  const started = process.hrtime.bigint();
  await source.start();
  await finished;
  const ended = process.hrtime.bigint();
  await source.stop();
  return { seconds: Number(ended - started) / 1e9, steadySeconds: Number(ended - first!) / 1e9 };
}

const bench = {
  title: 'local Kafka event source into a no-op function vs kcat -C, records/s on the same topic',
  async run(args: string[]): Promise<void> {
    const records = flag(args, 'records', 200000);
    const partitions = flag(args, 'partitions', 3);
    const size = flag(args, 'size', 300);
    const brokers = benchBrokers(args);
    if (!(await brokerAnswers(brokers))) {
      throw new Error(
        `no Kafka broker at ${brokers.join(',')}: start one, or name it with --brokers=host:port (or KAFKA_BROKERS)`,
      );
    }
    const topic = `bench-event-source-${randomUUID().slice(0, 8)}`;
    console.log(
      `${count(records)} records of ~${size} bytes in ${partitions} partitions of ${topic} on ${brokers.join(',')}\n`,
    );
    await fill(brokers, topic, records, partitions, size);

    const kcat = await countLines('kcat', kcatReadArgs([brokers[0]!], topic));
    if (kcat.exitCode !== 0) throw new Error(`kcat failed (${kcat.exitCode}): ${kcat.stderr.trim()}`);
    const kcatRecords = kcat.lines;
    if (kcatRecords !== records) throw new Error(`kcat read ${kcatRecords} records, expected ${records}`);

    const rows: Array<Array<string | number>> = [
      ['reader', 'records', 'seconds', 'records/s', 'vs kcat', 'records/s after the first batch'],
    ];
    const kcatRate = records / kcat.seconds;
    rows.push([
      'kcat -C -o beginning -e -q',
      count(records),
      kcat.seconds.toFixed(2),
      count(kcatRate),
      '1.00',
      '',
    ]);
    for (const batchSize of [100, 1000, 10000]) {
      const run = await viaEventSource(brokers, topic, records, batchSize);
      const rate = records / run.seconds;
      rows.push([
        `event source, batchSize ${batchSize}`,
        count(records),
        run.seconds.toFixed(2),
        count(rate),
        (rate / kcatRate).toFixed(2),
        count(records / run.steadySeconds),
      ]);
    }
    console.log(table(rows));
    console.log(
      '\nEach reader starts from the beginning in a new group; "seconds" includes connecting (and, for the ' +
        "event source, joining the group and finding the starting position), as kcat's includes its start.",
    );
  },
};

export = bench;

if (require.main === module) {
  console.log(`# ${bench.title}\n\n${machineLine()}\n`);
  bench.run(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`bench: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
