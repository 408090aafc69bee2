/**
 * Kafka: a broker of its own for the comparison (the project's launcher, Kafka's jars, a temporary folder,
 * COMPARE_KAFKA_PORT), so that restarting it disturbs nothing else. Records are produced as the pipeline
 * produces them (idempotent, acks from all in-sync replicas, key = client address); a consumer group reads
 * them and commits an offset as its acknowledgement.
 */
import type { Admin, Consumer, Producer } from 'kafkajs';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  defaultBrokerOptions,
  javaMajorVersion,
  KAFKA_VERSION,
  startBroker,
  stopBroker,
  type BrokerOptions,
} from '../../../local/kafka/launcher';
import { loadConfig } from '../../../shared/config';
import { createKafka } from '../../../shared/kafka/client';
import { createProducer, sendAll } from '../../../shared/kafka/producer';
import type { Availability, Broker, BrokerStarter, Channel, Handler, Wire } from '../broker';
import { succeeded, type NativeResult } from '../native';
import { measureCommand } from '../../load/command';
import { envPort, packageVersion } from './util';

const header = (value: Buffer | string | (Buffer | string)[] | undefined): string =>
  value === undefined ? '' : ((Array.isArray(value) ? value[0] : value)?.toString() ?? '');

class KafkaBroker implements Broker {
  readonly name = 'Kafka';
  private producer: Producer | undefined;
  private admin: Admin | undefined;

  constructor(
    private readonly options: BrokerOptions,
    private readonly brokers: string[],
  ) {}

  private kafka() {
    return createKafka({ brokers: this.brokers, clientId: 'compare' });
  }

  async connect(): Promise<void> {
    this.producer = createProducer({ ...loadConfig(), brokers: this.brokers });
    await this.producer.connect();
    this.admin = this.kafka().admin();
    await this.admin.connect();
  }

  describe(): string {
    return `Apache Kafka ${KAFKA_VERSION} (KRaft, one node, jars from Maven Central); kafkajs ${packageVersion('kafkajs')}`;
  }

  async channel(topic: string, { partitions }: { partitions: number }): Promise<Channel> {
    await this.admin!.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    const groupId = `${topic}-readers`;
    return {
      send: async (messages: Wire[]) => {
        await sendAll(this.producer!, [
          {
            topic,
            messages: messages.map((m) => ({
              key: m.key,
              value: m.body,
              headers: { seq: String(m.seq), 'sent-at': String(m.sentAt) },
            })),
          },
        ]);
      },
      subscribe: async (handler: Handler) => {
        const consumer: Consumer = this.kafka().consumer({
          groupId,
          maxWaitTimeInMs: 50,
          retry: { retries: 10 },
        });
        // An acknowledgement marks the offset; marked offsets are committed every 100 ms and on close, as a
        // consumer with auto-commit does (a commit per record would measure commits, not the broker).
        const marked = new Map<number, string>();
        const flush = async () => {
          if (marked.size === 0) return;
          const offsets = [...marked].map(([partition, offset]) => ({ topic, partition, offset }));
          marked.clear();
          await consumer.commitOffsets(offsets);
        };
        let flushing: Promise<void> = Promise.resolve();
        const timer = setInterval(() => {
          flushing = flushing.then(flush).catch(() => undefined);
        }, 100);
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachMessage: async ({ message, partition }) => {
            const next = String(Number(message.offset) + 1);
            handler(
              {
                seq: Number(header(message.headers?.seq)),
                key: message.key?.toString() ?? '',
                sentAt: Number(header(message.headers?.['sent-at'])),
                receivedAt: Date.now(),
              },
              () => void marked.set(partition, next),
            );
          },
        });
        return {
          close: async () => {
            clearInterval(timer);
            await flushing;
            await flush().catch(() => undefined);
            await consumer.disconnect();
          },
        };
      },
    };
  }

  /**
   * kcat (librdkafka, what most non-Java Kafka tools are built on): `-P -l` sends the records one per line,
   * idempotent with acks from all in-sync replicas as the pipeline produces; `-C -e` reads them back.
   */
  native = async (bodies: string[]): Promise<NativeResult> => {
    const topic = `native-${Date.now().toString(36)}`;
    await this.channel(topic, { partitions: 3 });
    const dir = mkdtempSync(join(tmpdir(), 'compare-kcat-'));
    try {
      const file = join(dir, 'records.txt');
      writeFileSync(file, `${bodies.join('\n')}\n`);
      const broker = ['-b', this.brokers.join(','), '-t', topic];
      const send = succeeded(
        'kcat -P',
        await measureCommand('kcat', [
          '-P',
          ...broker,
          '-X',
          'acks=all',
          '-X',
          'enable.idempotence=true',
          '-l',
          file,
        ]),
      );
      if (/Delivery failed/.test(send.stderr)) throw new Error(`kcat -P: ${send.stderr.split('\n')[0]}`);
      const read = succeeded(
        'kcat -C',
        await measureCommand('kcat', ['-C', ...broker, '-o', 'beginning', '-e', '-q', '-f', '%o\n']),
      );
      const received = read.stdout.split('\n').filter(Boolean).length;
      const version =
        /Version (\S+)/.exec((await measureCommand('kcat', ['-V'])).stdout)?.[1] ?? '(version unknown)';
      return {
        tool: `kcat ${version} -P -l (acks=all, idempotent), then kcat -C -e`,
        records: bodies.length,
        sendPerSecond: bodies.length / send.seconds,
        receivePerSecond: received / read.seconds,
        received,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  restart = async (): Promise<void> => {
    await this.disconnect();
    await stopBroker(this.options);
    await startBroker(this.options, { ...process.env, KAFKA_BROKERS: '' });
    await this.connect();
  };

  private async disconnect(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  }

  async stop(): Promise<void> {
    await this.disconnect();
    await stopBroker(this.options).catch(() => undefined);
    rmSync(this.options.dir, { recursive: true, force: true });
  }
}

export const kafka: BrokerStarter = {
  name: 'Kafka',
  async start(progress): Promise<Availability> {
    const java = await javaMajorVersion();
    if (java === null || java < 17) {
      return {
        ok: false,
        reason: 'the comparison runs a Kafka broker of its own, which needs Java 17+ and Maven',
      };
    }
    const dir = mkdtempSync(join(tmpdir(), 'compare-kafka-'));
    // Reuse the jars `npm run kafka:start` resolved, if it did.
    const libs = join(defaultBrokerOptions().dir, 'libs');
    if (existsSync(libs)) cpSync(libs, join(dir, 'libs'), { recursive: true });
    const options: BrokerOptions = {
      dir,
      port: envPort('COMPARE_KAFKA_PORT', 9192),
      allowDocker: false,
      say: progress,
    };
    try {
      const { brokers } = await startBroker(options, { ...process.env, KAFKA_BROKERS: '' });
      const broker = new KafkaBroker({ ...options, say: undefined }, brokers);
      await broker.connect();
      return { ok: true, broker };
    } catch (err) {
      await stopBroker(options).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      return { ok: false, reason: `the broker did not start: ${(err as Error).message.split('\n')[0]}` };
    }
  },
};
