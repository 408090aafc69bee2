/**
 * The Kafka clients the shipper can send through. The shipper runs on the log host, not in Lambda, so it may
 * use another client than the functions (which keep kafkajs): each one here gives the same guarantees —
 * idempotent producer, acks from all in-sync replicas, one request in flight per broker, the murmur2
 * partitioner of shared/kafka/partitioner.ts (so a key lands on the partition kafkajs and the Java client
 * pick) — and differs only in how fast it encodes and sends. Which one is the default, and why, is in
 * docs/shipping.md; `--client` picks the other.
 */
import type { TopicMessages } from 'kafkajs';
import type { PipelineConfig } from '../../shared/config';
import { createKafka } from '../../shared/kafka/client';
import { createProducer, PartlySentError, sendEveryPartition } from '../../shared/kafka/producer';
import { murmur2 } from '../../shared/kafka/partitioner';

export const SHIP_CLIENTS = ['kafkajs', 'platformatic'] as const;
export type ShipClientName = (typeof SHIP_CLIENTS)[number];

export interface ShipProducer {
  readonly name: ShipClientName;
  connect(): Promise<void>;
  /**
   * Resolves once the broker acknowledged every message (acks=all). The shipper calls it again with the same
   * batch after a failure: kafkajs resends it under the same producer id and sequence numbers (the broker
   * drops what it already has); @platformatic/kafka leaves out the partitions the broker confirmed.
   */
  send(batch: TopicMessages[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** Errors a retry cannot help (the request itself is refused); the shipper stops on them. */
export class RefusedError extends Error {
  readonly fatal = true;
}

/**
 * kafkajs. Messages are given their partition here (the partitioner's murmur2) and sent one partition per
 * call (sendEveryPartition), so that a leader moving during a send neither drops a partition nor writes one
 * twice, and a retry sends only the partitions that were not acknowledged.
 */
class KafkajsProducer implements ShipProducer {
  readonly name = 'kafkajs';
  private readonly producer;
  private readonly partitions = new Map<string, number>();
  /** The batch being sent and its records not yet acknowledged, so that a retry sends only those. */
  private pending: { batch: TopicMessages[]; unsent: TopicMessages[] } | undefined;

  constructor(private readonly config: PipelineConfig) {
    this.producer = createProducer(config);
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async send(batch: TopicMessages[]): Promise<void> {
    // A retry of the same batch sends only what was not acknowledged: kafkajs has moved the sequence numbers
    // of the acknowledged partitions on, and would write them again.
    if (this.pending?.batch !== batch) this.pending = { batch, unsent: await this.withPartitions(batch) };
    const pending = this.pending;
    try {
      await sendEveryPartition(this.producer, pending.unsent);
      this.pending = undefined;
    } catch (err) {
      if (err instanceof PartlySentError) {
        pending.unsent = err.unsent;
        throw err.cause;
      }
      throw err;
    }
  }

  /** A topic's partition count, looked up the first time it is sent to (a missing topic is a refusal). */
  private async partitionCount(topic: string): Promise<number> {
    const known = this.partitions.get(topic);
    if (known !== undefined) return known;
    const admin = createKafka(this.config).admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const count = topics[0]!.partitions.length;
      this.partitions.set(topic, count);
      return count;
    } catch (err) {
      const e = err as { type?: string; message: string };
      if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION') throw new RefusedError(`topic ${topic}: ${e.message}`);
      throw err;
    } finally {
      await admin.disconnect();
    }
  }

  private async withPartitions(batch: TopicMessages[]): Promise<TopicMessages[]> {
    const out: TopicMessages[] = [];
    for (const { topic, messages } of batch) {
      if (messages.length === 0) continue;
      const count = await this.partitionCount(topic);
      let roundRobin = 0;
      out.push({
        topic,
        messages: messages.map((m) => ({
          ...m,
          partition:
            m.key === null || m.key === undefined
              ? roundRobin++ % count
              : keyPartition(asBuffer(m.key), count),
        })),
      });
    }
    return out;
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

/** The part of @platformatic/kafka 1.x the shipper uses (the package is an ES module, loaded with import()). */
interface PlatformaticMessage {
  topic: string;
  partition: number;
  key: Buffer;
  value: Buffer | undefined;
  headers: Map<Buffer, Buffer>;
}
interface PlatformaticError extends Error {
  produced?: { offsets?: Array<{ topic: string; partition: number }> };
  canRetry?: boolean;
  errors?: PlatformaticError[];
  apiId?: string;
}
interface PlatformaticProducer {
  send(options: { messages: PlatformaticMessage[] }): Promise<unknown>;
  metadata(options: { topics: string[] }): Promise<{ topics: Map<string, { partitionsCount: number }> }>;
  close(): Promise<void>;
}
interface PlatformaticModule {
  Producer: new (options: Record<string, unknown>) => PlatformaticProducer;
}

const ACKS_ALL = -1;

/** Kafka's default partitioner for a keyed record: murmur2 of the key made positive, modulo the count. */
export function keyPartition(key: Buffer, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
const asBuffer = (v: Buffer | string) => (Buffer.isBuffer(v) ? v : Buffer.from(v));

/**
 * Header names and most header values (record version, content type, format, source) repeat on every
 * record: their bytes are made once. Bounded: at most 256 distinct texts, then it starts afresh.
 */
class TextBuffers {
  private readonly known = new Map<string, Buffer>();
  of(text: string): Buffer {
    let bytes = this.known.get(text);
    if (!bytes) {
      if (this.known.size >= 256) this.known.clear();
      bytes = Buffer.from(text);
      this.known.set(text, bytes);
    }
    return bytes;
  }
}

/** Error codes a broker answers for a request that is refused as such: resending it cannot succeed. */
const REFUSALS =
  /MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE|INVALID_RECORD|TOPIC_AUTHORIZATION_FAILED|CLUSTER_AUTHORIZATION_FAILED|UNKNOWN_TOPIC_OR_PARTITION/;

/**
 * @platformatic/kafka (pure JavaScript, encodes a produce request in few copies). Messages are given their
 * partition here, by the same murmur2 as kafkajs's default; a send that fails part-way leaves the partitions
 * the broker confirmed out of the next attempt, because the client has already moved their sequence numbers
 * on, and a resend would be written again.
 */
class PlatformaticProducer_ implements ShipProducer {
  readonly name = 'platformatic';
  private producer: PlatformaticProducer | undefined;
  private partitions = new Map<string, number>();
  private readonly texts = new TextBuffers();
  /** The batch being sent and the messages of it not yet confirmed, so that a retry sends only those. */
  private pending: { batch: TopicMessages[]; messages: PlatformaticMessage[] } | undefined;

  constructor(
    private readonly config: PipelineConfig,
    private readonly kafka: PlatformaticModule,
  ) {}

  async connect(): Promise<void> {
    this.producer = new this.kafka.Producer({
      clientId: this.config.clientId,
      bootstrapBrokers: this.config.brokers,
      idempotent: true,
      acks: ACKS_ALL,
      autocreateTopics: false,
      connectTimeout: 3000,
      timeout: 30000,
      retries: 3,
      retryDelay: 300,
    });
    const topics = [this.config.topic, this.config.deadLetterTopic];
    const metadata = await this.producer.metadata({ topics });
    for (const topic of topics) this.partitions.set(topic, metadata.topics.get(topic)!.partitionsCount);
  }

  private toMessages(batch: TopicMessages[]): PlatformaticMessage[] {
    const out: PlatformaticMessage[] = [];
    for (const { topic, messages } of batch) {
      const count = this.partitions.get(topic);
      if (count === undefined) throw new RefusedError(`topic ${topic} was not looked up at connect`);
      let roundRobin = 0;
      for (const m of messages) {
        const headers = new Map<Buffer, Buffer>();
        for (const [name, value] of Object.entries(m.headers ?? {})) {
          if (value === undefined) continue;
          headers.set(this.texts.of(name), Buffer.isBuffer(value) ? value : this.texts.of(String(value)));
        }
        const key = m.key === null || m.key === undefined ? undefined : asBuffer(m.key);
        out.push({
          topic,
          partition: key ? keyPartition(key, count) : roundRobin++ % count,
          key: key ?? Buffer.alloc(0),
          value: m.value === null ? undefined : asBuffer(m.value),
          headers,
        });
      }
    }
    return out;
  }

  async send(batch: TopicMessages[]): Promise<void> {
    if (this.pending?.batch !== batch) this.pending = { batch, messages: this.toMessages(batch) };
    const pending = this.pending;
    if (pending.messages.length === 0) return;
    try {
      await this.producer!.send({ messages: pending.messages });
      this.pending = undefined;
    } catch (err) {
      const e = err as PlatformaticError;
      const stored = new Set((e.produced?.offsets ?? []).map((o) => `${o.topic}:${o.partition}`));
      if (stored.size > 0) {
        pending.messages = pending.messages.filter((m) => !stored.has(`${m.topic}:${m.partition}`));
      }
      const text = [e.message, ...(e.errors ?? []).map((x) => x.message)].join('; ');
      if (REFUSALS.test(text) || REFUSALS.test(JSON.stringify(e))) throw new RefusedError(text);
      throw new Error(text);
    }
  }

  async disconnect(): Promise<void> {
    await this.producer?.close();
  }
}

/** Whether @platformatic/kafka is installed and loads on this Node.js (1.x needs 20.19.4 or later). */
async function loadPlatformatic(): Promise<PlatformaticModule | string> {
  try {
    return (await import('@platformatic/kafka')) as unknown as PlatformaticModule;
  } catch (err) {
    return (err as Error).message.split('\n')[0]!;
  }
}

/**
 * The producer for `--client <name>`. The default is kafkajs: in the benchmark (docs/shipping.md)
 * @platformatic/kafka was 1.27 × as fast but peaked at 151 MiB RSS on a 1,000,000-line file, over the
 * shipper's 150 MiB bound, where kafkajs peaked at 122 MiB. @platformatic/kafka serves plaintext brokers
 * only here; `note` says why a requested client was not used.
 */
export async function shipProducer(
  config: PipelineConfig,
  wanted: ShipClientName = 'kafkajs',
): Promise<{ producer: ShipProducer; note?: string }> {
  if (wanted === 'kafkajs') return { producer: new KafkajsProducer(config) };
  if (config.connection.auth !== 'none') {
    return {
      producer: new KafkajsProducer(config),
      note: `@platformatic/kafka is used for plaintext brokers only here; KAFKA_AUTH=${config.connection.auth} goes through kafkajs`,
    };
  }
  const loaded = await loadPlatformatic();
  if (typeof loaded === 'string') {
    return {
      producer: new KafkajsProducer(config),
      note: `@platformatic/kafka cannot be loaded (${loaded}); shipping with kafkajs`,
    };
  }
  return { producer: new PlatformaticProducer_(config, loaded) };
}
