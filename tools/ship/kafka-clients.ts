/**
 * The Kafka clients the shipper can send through. The shipper runs on the log host, not in Lambda, so it may
 * use another client than the functions (which keep kafkajs): each one here gives the same guarantees —
 * idempotent producer, acks from all in-sync replicas, per-partition order, the murmur2 partitioner of
 * shared/kafka/partitioner.ts (so a key lands on the partition kafkajs and the Java client pick) — and differs
 * only in how fast it encodes and sends. Which one is the default, and why, is in docs/shipping.md;
 * `--client` picks another.
 */
import type { Message, TopicMessages } from 'kafkajs';
import type { PipelineConfig } from '../../shared/config';
import { createKafka } from '../../shared/kafka/client';
import { connectionOptions, type ConnectionOptions } from '../../shared/kafka/msk-auth';
import { createProducer, PartlySentError, sendEveryPartition } from '../../shared/kafka/producer';
import { hashPartition, keyPartition } from '../../shared/kafka/partitioner';
import { keyOf, partitionedRecords, valueOf, type EncodedBatch } from './encoded-batch';

export const SHIP_CLIENTS = ['rdkafka', 'kafkajs', 'platformatic'] as const;
export type ShipClientName = (typeof SHIP_CLIENTS)[number];

export interface ShipProducer {
  readonly name: ShipClientName;
  /**
   * Batches the shipper may give before the first of them is acknowledged: 1 unless the client keeps each
   * partition's order across concurrent sends (send() is then called for each batch without waiting).
   */
  readonly maxInFlight: number;
  connect(): Promise<void>;
  /**
   * Resolves once the broker acknowledged every message (acks=all). The shipper calls it again with the same
   * batch after a failure: kafkajs resends it under the same producer id and sequence numbers (the broker
   * drops what it already has); @platformatic/kafka leaves out the partitions the broker confirmed.
   */
  send(batch: EncodedBatch): Promise<void>;
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
  readonly maxInFlight = 1;
  private readonly producer;
  private readonly partitions = new Map<string, number>();
  /** The batch being sent and its records not yet acknowledged, so that a retry sends only those. */
  private pending: { batch: EncodedBatch; unsent: TopicMessages[] } | undefined;

  constructor(private readonly config: PipelineConfig) {
    this.producer = createProducer(config);
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async send(batch: EncodedBatch): Promise<void> {
    // A retry of the same batch sends only what was not acknowledged: kafkajs has moved the sequence numbers
    // of the acknowledged partitions on, and would write them again.
    if (this.pending?.batch !== batch) this.pending = { batch, unsent: await this.topicMessages(batch) };
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

  /** The batch as kafkajs messages, each with its partition (the dead-letter topic looked up only when needed). */
  private async topicMessages(batch: EncodedBatch): Promise<TopicMessages[]> {
    const { topic, deadLetterTopic } = this.config;
    const records = { topic, partitions: await this.partitionCount(topic) };
    const deadLetters =
      batch.deadLetters.length > 0
        ? { topic: deadLetterTopic, partitions: await this.partitionCount(deadLetterTopic) }
        : undefined;
    const byTopic = new Map<string, Message[]>();
    for (const r of partitionedRecords(batch, records, deadLetters, (headers) => headers)) {
      let messages = byTopic.get(r.topic);
      if (!messages) byTopic.set(r.topic, (messages = []));
      messages.push({ key: r.key, value: r.value, headers: r.headers, partition: r.partition });
    }
    return [...byTopic].map(([t, messages]) => ({ topic: t, messages }));
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
  readonly maxInFlight = 1;
  private producer: PlatformaticProducer | undefined;
  private partitions = new Map<string, number>();
  private readonly texts = new TextBuffers();
  /** The batch being sent and the messages of it not yet confirmed, so that a retry sends only those. */
  private pending: { batch: EncodedBatch; messages: PlatformaticMessage[] } | undefined;

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

  private toMessages(batch: EncodedBatch): PlatformaticMessage[] {
    const partitionsOf = (topic: string) => {
      const partitions = this.partitions.get(topic);
      if (partitions === undefined) throw new RefusedError(`topic ${topic} was not looked up at connect`);
      return { topic, partitions };
    };
    const records = partitionsOf(this.config.topic);
    const deadLetters = batch.deadLetters.length > 0 ? partitionsOf(this.config.deadLetterTopic) : undefined;
    return partitionedRecords(batch, records, deadLetters, (headers) => this.headerMap(headers)).map((r) => ({
      topic: r.topic,
      partition: r.partition,
      key: r.key ?? Buffer.alloc(0),
      value: r.value ?? undefined,
      headers: r.headers,
    }));
  }

  /** Headers as @platformatic/kafka takes them; made once per run of records that share them. */
  private headerMap(headers: Message['headers']): Map<Buffer, Buffer> {
    const out = new Map<Buffer, Buffer>();
    for (const [name, value] of Object.entries(headers ?? {})) {
      if (value === undefined) continue;
      out.set(this.texts.of(name), Buffer.isBuffer(value) ? value : this.texts.of(String(value)));
    }
    return out;
  }

  async send(batch: EncodedBatch): Promise<void> {
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

/** The part of @confluentinc/kafka-javascript's native (node-rdkafka) API the shipper uses. */
export interface RdkafkaError extends Error {
  code: number;
  isFatal?: boolean;
}
interface RdkafkaReport {
  topic: string;
  partition: number;
  opaque?: unknown;
}
interface RdkafkaClient {
  connect(options: { timeout: number }, done: (err: RdkafkaError | null) => void): void;
  produce(
    topic: string,
    partition: number,
    value: Uint8Array | null,
    key: string | Uint8Array | null,
    timestamp: null,
    opaque: unknown,
    headers: Array<Record<string, string | Buffer>>,
  ): unknown;
  getMetadata(
    options: { topic: string; timeout: number },
    done: (
      err: RdkafkaError | null,
      metadata: { topics: Array<{ name: string; partitions: unknown[] }> },
    ) => void,
  ): void;
  setPollInBackground(on: boolean): void;
  /** With timeout 0: answers at once, an error (TIMED_OUT) while librdkafka holds any record. */
  flush(timeout: number, done: (err: RdkafkaError | null) => void): void;
  disconnect(timeout: number, done: (err: RdkafkaError | null) => void): void;
  on(event: 'delivery-report', listener: (err: RdkafkaError | null, report: RdkafkaReport) => void): void;
  on(event: 'event.error', listener: (err: RdkafkaError) => void): void;
  removeAllListeners(): void;
}
export interface RdkafkaModule {
  Producer: new (settings: Record<string, string | number | boolean>) => RdkafkaClient;
  librdkafkaVersion: string;
}

/** librdkafka error codes the shipper acts on (rdkafka.h). */
export const RD = {
  QUEUE_FULL: -184,
  TIMED_OUT: -185,
  FATAL: -150,
  UNKNOWN_TOPIC: -188,
  UNKNOWN_PARTITION: -190,
  MSG_SIZE_TOO_LARGE: 10,
  UNKNOWN_TOPIC_OR_PART: 3,
  RECORD_LIST_TOO_LARGE: 18,
  TOPIC_AUTHORIZATION_FAILED: 29,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  INVALID_RECORD: 87,
} as const;

/** Codes that refuse the record as such: resending it cannot succeed, so the shipper stops. */
const RD_REFUSALS: ReadonlySet<number> = new Set([
  RD.UNKNOWN_TOPIC,
  RD.UNKNOWN_PARTITION,
  RD.MSG_SIZE_TOO_LARGE,
  RD.UNKNOWN_TOPIC_OR_PART,
  RD.RECORD_LIST_TOO_LARGE,
  RD.TOPIC_AUTHORIZATION_FAILED,
  RD.CLUSTER_AUTHORIZATION_FAILED,
  RD.INVALID_RECORD,
]);

/**
 * What librdkafka may hold at once for the shipper (its own default is 1 GiB): the batches in flight
 * (RDKAFKA_IN_FLIGHT × at most 256 KiB of lines, ~1 MiB of records each) fit inside; past it produce()
 * answers QUEUE_FULL and the records wait for acknowledgements to make room.
 */
export const RDKAFKA_QUEUE = { messages: 100_000, kbytes: 8 * 1024 } as const;

/**
 * librdkafka settings for the shipper: idempotence (acks=all, at most 5 requests in flight per partition,
 * retries with the same sequence numbers, so per-partition order holds), no delivery timeout (a record is
 * retried until the broker stores it or the error is fatal: the shipper reports a wait, it never resends a
 * record librdkafka still holds), bounded queues, and TLS / SCRAM from the project's connection options.
 * MSK IAM (SASL/OAUTHBEARER with a signed token) is not mapped: `undefined` then.
 */
export function rdkafkaSettings(
  config: Pick<PipelineConfig, 'clientId'>,
  connection: ConnectionOptions,
): Record<string, string | number | boolean> | undefined {
  const brokers = Array.isArray(connection.brokers) ? connection.brokers : [];
  const settings: Record<string, string | number | boolean> = {
    'bootstrap.servers': brokers.join(','),
    'client.id': config.clientId,
    'enable.idempotence': true,
    // A record that fails for good would leave a gap in its partition's sequence: librdkafka raises a fatal
    // error instead, and the shipper resends from a new producer in order (RdkafkaProducer).
    'enable.gapless.guarantee': true,
    acks: 'all',
    'message.timeout.ms': 0,
    'queue.buffering.max.messages': RDKAFKA_QUEUE.messages,
    'queue.buffering.max.kbytes': RDKAFKA_QUEUE.kbytes,
    'linger.ms': 2,
    'socket.connection.setup.timeout.ms': 10000,
    // A report for failed records only; stored ones are known by asking librdkafka (RdkafkaProducer).
    dr_cb: true,
    'delivery.report.only.error': true,
  };
  const { ssl, sasl } = connection;
  if (sasl) {
    if (sasl.mechanism !== 'scram-sha-512' && sasl.mechanism !== 'scram-sha-256') return undefined;
    settings['sasl.mechanisms'] = sasl.mechanism.toUpperCase();
    settings['sasl.username'] = (sasl as { username: string }).username;
    settings['sasl.password'] = (sasl as { password: string }).password;
  }
  if (ssl) {
    settings['security.protocol'] = sasl ? 'sasl_ssl' : 'ssl';
    const ca = typeof ssl === 'object' ? ssl.ca : undefined;
    if (ca !== undefined) settings['ssl.ca.pem'] = (Array.isArray(ca) ? ca : [ca]).map(String).join('\n');
  } else if (sasl) {
    settings['security.protocol'] = 'sasl_plaintext';
  }
  return settings;
}

/**
 * librdkafka settings `--rdkafka-setting` may not change, and why: the shipper's guarantees (every record
 * stored once, in order, acknowledged by all in-sync replicas before the checkpoint moves) and its bounds
 * rest on them.
 */
const FIXED_RDKAFKA_SETTINGS: Record<string, string> = {
  acks: 'the shipper waits for every in-sync replica (acks=all) before it moves the checkpoint',
  'request.required.acks':
    'the shipper waits for every in-sync replica (acks=all) before it moves the checkpoint',
  'enable.idempotence':
    'the idempotent producer keeps each partition in order and writes a resent record once',
  'enable.gapless.guarantee':
    'a failed record must stop the producer rather than leave a gap in its partition',
  'bootstrap.servers': 'the brokers come from KAFKA_BROKERS',
  'metadata.broker.list': 'the brokers come from KAFKA_BROKERS',
  dr_cb: 'the shipper learns of failed records through delivery reports',
  dr_msg_cb: 'the shipper learns of failed records through delivery reports',
  'delivery.report.only.error': 'the shipper takes delivery reports of failed records only',
  'client.id': 'the client id comes from KAFKA_CLIENT_ID',
  'transactional.id':
    'the shipper sends with the idempotent producer, not in transactions (a transactional producer sends nothing until its transactions are begun)',
};

/** Settings that may be lowered, not raised past the bound the shipper states. */
const BOUNDED_RDKAFKA_SETTINGS: Record<string, { max: number; why: string }> = {
  'max.in.flight.requests.per.connection': {
    max: 5,
    why: 'the idempotent producer keeps order with at most 5 requests in flight',
  },
  'max.in.flight': { max: 5, why: 'the idempotent producer keeps order with at most 5 requests in flight' },
  'queue.buffering.max.messages': {
    max: RDKAFKA_QUEUE.messages,
    why: "librdkafka's queue is the shipper's memory bound",
  },
  'queue.buffering.max.kbytes': {
    max: RDKAFKA_QUEUE.kbytes,
    why: "librdkafka's queue is the shipper's memory bound",
  },
};

/** A `--rdkafka-setting` that is malformed or would weaken what the shipper guarantees. */
export class RdkafkaSettingError extends Error {}

/**
 * `--rdkafka-setting key=value` (repeatable) as librdkafka settings, added to the shipper's own: for what
 * differs on a real network (compression.type=lz4, socket and TLS options). Refused: a text without `=`,
 * the settings the shipper's guarantees rest on, and bounds raised past the shipper's. librdkafka itself
 * checks names and values when the producer is made (checkRdkafkaSettings).
 */
export function parseRdkafkaSettings(texts: readonly string[]): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const text of texts) {
    const eq = text.indexOf('=');
    const key = eq === -1 ? '' : text.slice(0, eq).trim();
    if (key === '') {
      throw new RdkafkaSettingError(
        `--rdkafka-setting ${JSON.stringify(text)} is not key=value; example: --rdkafka-setting compression.type=lz4`,
      );
    }
    const value = text.slice(eq + 1).trim();
    const fixed = FIXED_RDKAFKA_SETTINGS[key];
    if (fixed !== undefined) {
      throw new RdkafkaSettingError(`--rdkafka-setting ${key} cannot be changed: ${fixed}`);
    }
    const bounded = BOUNDED_RDKAFKA_SETTINGS[key];
    if (
      bounded !== undefined &&
      !(/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= bounded.max)
    ) {
      throw new RdkafkaSettingError(
        `--rdkafka-setting ${key}=${value}: give a whole number from 1 to ${bounded.max}; ${bounded.why}`,
      );
    }
    settings[key] = value;
  }
  return settings;
}

/**
 * Makes (without connecting) a librdkafka producer with the shipper's settings and `extra`, so that a name
 * or value librdkafka does not know is refused before anything is read. Nothing to check without librdkafka.
 */
export function checkRdkafkaSettings(extra: Record<string, string>): void {
  if (Object.keys(extra).length === 0) return;
  const loaded = loadRdkafka();
  if (typeof loaded === 'string') return;
  try {
    new loaded.Producer({ ...rdkafkaSettings({ clientId: 'check' }, { brokers: [] })!, ...extra });
  } catch (err) {
    throw new RdkafkaSettingError(`--rdkafka-setting: ${(err as Error).message}`);
  }
}

/**
 * A record's headers as librdkafka takes them: one single-name object per header (a header with several
 * values gives one per value), every value as its bytes. The binding copies a Buffer's bytes as they are,
 * where a string would be converted to UTF-8 on every record: the same bytes either way. Made once per run
 * of records that share their headers, and once per dead letter.
 */
export function rdkafkaHeaders(headers: Message['headers']): Array<Record<string, Buffer>> {
  const out: Array<Record<string, Buffer>> = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value])
      out.push({ [name]: Buffer.isBuffer(v) ? v : Buffer.from(String(v)) });
  }
  return out;
}

/** A batch being sent. */
interface RdkafkaBatch {
  encoded: EncodedBatch;
  /** Records of the log topic first, then the dead letters. */
  total: number;
  /** The next record to hand over, and the run of headers it is in. */
  next: number;
  run: number;
  /** Each run's headers as librdkafka takes them, made at the first handover. */
  headers: Array<Array<Record<string, Buffer>>>;
  /** The producer every record of the batch was handed to (unset while some still wait for room). */
  handedTo?: RdkafkaClient;
  acknowledged: boolean;
  failure?: RdkafkaError;
  /** Wakes the send() waiting for this batch. */
  wake?: () => void;
}

/** How long send() waits without an acknowledgement before it tells the shipper (which logs and calls again). */
const RDKAFKA_STALL_MS = 10000;

/** Runs `fn` after the event loop has gone once more through its poll phase (see RdkafkaProducer.probe). */
function afterNextPoll(fn: () => void): void {
  setImmediate(() => setImmediate(fn));
}

/** How soon librdkafka is asked again whether every record handed over is stored. */
const RDKAFKA_PROBE_MS = 1;

/**
 * Batches the shipper may have on their way through librdkafka at once. One batch waits a produce round trip
 * with acks=all, far longer than librdkafka needs to send it; with several on their way the round trips
 * overlap. Each batch is at most 256 KiB of lines (~1 MiB of records), so this bounds memory too.
 */
export const RDKAFKA_IN_FLIGHT = 4;

/**
 * @confluentinc/kafka-javascript through its native producer API: librdkafka encodes, batches and sends on
 * its own threads, off the JavaScript thread. send() hands each record over with its partition (the murmur2
 * partitioner, as every client here) and resolves when the batch is stored with acks=all. Several batches
 * may be on their way at once (maxInFlight); librdkafka keeps each partition's records in the order they
 * were handed over.
 *
 * Acknowledgement without a delivery report per record: librdkafka reports failed records only
 * (`delivery.report.only.error`), and a record leaves librdkafka's count of records it holds once the broker
 * has stored it (or it failed, and then its report is made before it leaves the count). So when librdkafka
 * says it holds none (`flush(0)`, asked again every RDKAFKA_PROBE_MS while a batch waits), every batch
 * handed over before the question is stored. The answer comes while the batches in flight are drained; with
 * RDKAFKA_IN_FLIGHT batches on their way and the next ones parsed meanwhile, that costs little, where a report
 * per record cost the JavaScript thread ~5 µs a record (docs/shipping.md).
 *
 * librdkafka retries a record itself, under the same producer id and sequence number, for as long as the
 * error is retriable (message.timeout.ms=0), so a broker that is down only makes send() wait: it rejects
 * after RDKAFKA_STALL_MS without an acknowledgement, the shipper logs `ship.send_retry` and calls send()
 * again with the same batch, which waits on without resending anything librdkafka holds. A refusal (too
 * large, not authorised, unknown topic) is a RefusedError. A fatal error (the idempotent producer's state is
 * lost), or any other failed record (handed over again alone it could land after later records), ends that
 * producer: the next call connects a new one (a new producer id) and hands over again, in order, every record
 * of every batch not acknowledged, which writes twice the records of those batches the broker had stored.
 */
export class RdkafkaProducer implements ShipProducer {
  readonly name = 'rdkafka';
  readonly maxInFlight = RDKAFKA_IN_FLIGHT;
  private client: RdkafkaClient | undefined;
  private readonly partitions = new Map<string, number>();
  /** The batches not yet acknowledged, in the order they were given. */
  private readonly batches = new Map<EncodedBatch, RdkafkaBatch>();
  private fatal: RdkafkaError | undefined;
  private refused: string | undefined;
  private replacing: Promise<void> | undefined;
  /** produce() answered QUEUE_FULL: hand over the rest when librdkafka has room. */
  private blocked = false;
  /** A flush(0) question is on its way. */
  private probing = false;

  constructor(
    private readonly config: PipelineConfig,
    private readonly kafka: RdkafkaModule,
    private readonly settings: Record<string, string | number | boolean>,
  ) {}

  /** The same producer (not connected yet) with `extra` (parseRdkafkaSettings) added to its settings. */
  withSettings(extra: Record<string, string>): RdkafkaProducer {
    return new RdkafkaProducer(this.config, this.kafka, { ...this.settings, ...extra });
  }

  async connect(): Promise<void> {
    const client = new this.kafka.Producer({ ...this.settings });
    client.on('delivery-report', (err, report) => this.delivered(client, err, report));
    client.on('event.error', (err) => {
      if (client === this.client && (err.isFatal || err.code === RD.FATAL)) this.fail(err);
    });
    await new Promise<void>((resolve, reject) =>
      client.connect({ timeout: 10000 }, (err) => (err ? reject(err) : resolve())),
    );
    // Reports (failed records only) are collected on a librdkafka thread and handed to the event loop.
    client.setPollInBackground(true);
    this.client = client;
    this.fatal = undefined;
    for (const topic of [this.config.topic, this.config.deadLetterTopic]) {
      if (this.partitions.has(topic)) continue;
      try {
        this.partitions.set(topic, await this.partitionCount(client, topic));
      } catch (err) {
        // The shipper checked both topics before; without a dead-letter topic a dead letter is refused.
        if (topic === this.config.topic || !(err instanceof RefusedError)) throw err;
      }
    }
  }

  private partitionCount(client: RdkafkaClient, topic: string): Promise<number> {
    return new Promise((resolve, reject) =>
      client.getMetadata({ topic, timeout: 10000 }, (err, metadata) => {
        if (err) return reject(err);
        const found = metadata.topics.find((t) => t.name === topic);
        if (!found || found.partitions.length === 0) {
          return reject(
            new RefusedError(`topic ${topic} does not exist on ${this.settings['bootstrap.servers']}`),
          );
        }
        resolve(found.partitions.length);
      }),
    );
  }

  private fail(err: RdkafkaError): void {
    this.fatal ??= err;
    for (const b of this.batches.values()) b.wake?.();
  }

  /** A failed record (librdkafka reports no others). */
  private delivered(client: RdkafkaClient, err: RdkafkaError | null, report: RdkafkaReport): void {
    // Reports of a producer replaced after a fatal error are not counted: its records were taken back.
    if (client !== this.client || !err) return;
    if (RD_REFUSALS.has(err.code)) {
      this.refused ??= `${report.topic}: ${err.message}`;
      for (const b of this.batches.values()) b.wake?.();
      return;
    }
    // With enable.gapless.guarantee librdkafka makes a gap fatal on its own; any other failed record is
    // treated alike: handing it over again alone could put it after records handed over later, so the
    // producer is replaced and every record not acknowledged goes again, in order.
    this.fail(err);
  }

  /** Hands over what is not handed over yet, oldest batch first, until librdkafka's queue is full. */
  private pump(): void {
    const client = this.client;
    if (!client || this.fatal) return;
    this.blocked = false;
    for (const b of this.batches.values()) {
      if (b.next < b.total && !this.handOver(client, b)) return;
      b.handedTo ??= client;
    }
    this.probe();
  }

  /** Hands over the batch's records from `next` on; false when librdkafka took only part of them. */
  private handOver(client: RdkafkaClient, b: RdkafkaBatch): boolean {
    const { records, deadLetters } = b.encoded;
    const topic = this.config.topic;
    const count = this.partitions.get(topic)!;
    if (b.headers.length === 0) b.headers = records.runs.map((r) => rdkafkaHeaders(r.headers));
    while (b.next < b.total) {
      const i = b.next;
      try {
        if (i < records.count) {
          while (i >= records.runs[b.run]!.end) b.run++;
          client.produce(
            topic,
            hashPartition(records.hashes[i]!, count),
            valueOf(records, i),
            keyOf(records, i),
            null,
            undefined,
            b.headers[b.run]!,
          );
        } else {
          const letter = deadLetters[i - records.count]!;
          const dlq = this.config.deadLetterTopic;
          const partitions = this.partitions.get(dlq);
          if (partitions === undefined) throw new RefusedError(`topic ${dlq} was not looked up at connect`);
          const key = letter.key === null || letter.key === undefined ? null : asBuffer(letter.key);
          client.produce(
            dlq,
            key === null ? i % partitions : keyPartition(key, partitions),
            letter.value === null || letter.value === undefined ? null : asBuffer(letter.value),
            key,
            null,
            undefined,
            rdkafkaHeaders(letter.headers),
          );
        }
      } catch (err) {
        if (err instanceof RefusedError) {
          this.refused ??= err.message;
          b.wake?.();
          return false;
        }
        const e = err as RdkafkaError;
        if (e.code === RD.QUEUE_FULL) {
          // librdkafka's queue is full (RDKAFKA_QUEUE): room is made as the broker stores records.
          this.blocked = true;
          this.probe();
          return false;
        }
        b.failure ??= e;
        if (RD_REFUSALS.has(e.code)) this.refused ??= `${topic}: ${e.message}`;
        b.wake?.();
        return false;
      }
      b.next++;
    }
    return true;
  }

  /**
   * Asks librdkafka whether it still holds any record (flush with no wait). When it holds none, every batch
   * handed over before the question is stored.
   */
  private probe(): void {
    const client = this.client;
    if (this.probing || !client || this.fatal) return;
    const covered: RdkafkaBatch[] = [];
    for (const b of this.batches.values()) if (b.handedTo === client && !b.acknowledged) covered.push(b);
    if (covered.length === 0 && !this.blocked) return;
    this.probing = true;
    const answered = (err: RdkafkaError | null) => {
      // A failed record's report reaches JavaScript through another of libuv's async handles than this
      // answer. librdkafka hands the report to the binding before the record leaves its count, so the
      // report's wake-up was sent before this answer's; but the loop may have looked at the report's handle
      // just before that, and then sees it only in its next poll. Two setImmediate turns put one whole poll
      // of the loop between this answer and the batches being counted as stored.
      afterNextPoll(() => {
        if (client !== this.client) return;
        this.probing = false;
        if (!err && !this.fatal && !this.refused) {
          for (const b of covered) {
            b.acknowledged = true;
            b.wake?.();
          }
        }
        if (this.blocked) this.pump();
        if (!err) this.probe();
        else setTimeout(() => this.probe(), err.code === RD.TIMED_OUT ? RDKAFKA_PROBE_MS : 100);
      });
    };
    try {
      client.flush(0, answered);
    } catch (err) {
      answered(err as RdkafkaError);
    }
  }

  /** Resolves true when the batch hears something (stored, a failure), false after `ms` without. */
  private progress(b: RdkafkaBatch, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        b.wake = undefined;
        resolve(false);
      }, ms);
      b.wake = () => {
        clearTimeout(timer);
        b.wake = undefined;
        resolve(true);
      };
    });
  }

  async send(batch: EncodedBatch): Promise<void> {
    let b = this.batches.get(batch);
    if (!b) {
      const total = batch.records.count + batch.deadLetters.length;
      b = { encoded: batch, total, next: 0, run: 0, headers: [], acknowledged: false };
      this.batches.set(batch, b);
    } else if (this.fatal) {
      await (this.replacing ??= this.replaceAfterFatal());
    }
    b.failure = undefined;
    this.pump();
    for (;;) {
      if (this.refused) {
        this.batches.delete(batch);
        throw new RefusedError(this.refused);
      }
      if (this.fatal) throw this.failed(this.fatal, b);
      if (b.failure) throw this.failed(b.failure, b);
      if (b.acknowledged) break;
      if (!(await this.progress(b, RDKAFKA_STALL_MS))) {
        throw new Error(
          `no acknowledgement for ${RDKAFKA_STALL_MS / 1000} s; librdkafka holds the batch's records and keeps sending them`,
        );
      }
    }
    this.batches.delete(batch);
  }

  private failed(err: RdkafkaError, b: RdkafkaBatch): Error {
    if (RD_REFUSALS.has(err.code)) return new RefusedError(err.message);
    return new Error(
      `${err.message} (librdkafka ${err.code}); the batch's ${b.total} records are not acknowledged yet`,
    );
  }

  /**
   * After a fatal error the producer cannot go on: every batch not acknowledged is taken back whole, and a
   * new producer (a new producer id) connects and is given them again in order.
   */
  private async replaceAfterFatal(): Promise<void> {
    const old = this.client;
    this.client = undefined;
    old?.removeAllListeners();
    this.probing = false;
    this.blocked = false;
    for (const b of this.batches.values()) {
      if (b.acknowledged) continue;
      b.next = 0;
      b.run = 0;
      b.handedTo = undefined;
    }
    try {
      if (old) await new Promise<void>((resolve) => old.disconnect(5000, () => resolve()));
      await this.connect();
    } finally {
      this.replacing = undefined;
    }
  }

  async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    await new Promise<void>((resolve) => client.flush(5000, () => resolve()));
    await new Promise<void>((resolve) => client.disconnect(5000, () => resolve()));
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

/** @confluentinc/kafka-javascript, or why it cannot be loaded (an optional dependency built on install). */
export function loadRdkafka(): RdkafkaModule | string {
  // A name in a variable: the package is optional, so neither the type checker nor a bundler may need it.
  const name = '@confluentinc/kafka-javascript';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as RdkafkaModule;
  } catch (err) {
    return (err as Error).message.split('\n')[0]!;
  }
}

const fallback = (config: PipelineConfig, note: string) => ({ producer: new KafkajsProducer(config), note });

/**
 * The producer for `--client <name>`; without one, librdkafka, which ships several times as fast as kafkajs
 * within the memory bound (docs/shipping.md, "Kafka clients" and Benchmark). Where rdkafka is not installed
 * (its build needs a C compiler and OpenSSL's headers), and where @platformatic/kafka cannot serve, the
 * shipper uses kafkajs and `note` says why. MSK IAM is set up for kafkajs only: with KAFKA_AUTH=iam the
 * default is kafkajs, and an explicit `--client rdkafka` gets a note.
 */
export async function shipProducer(
  config: PipelineConfig,
  wanted?: ShipClientName,
  extraSettings: Record<string, string> = {},
): Promise<{ producer: ShipProducer; note?: string }> {
  if (Object.keys(extraSettings).length > 0) {
    const chosen = await shipProducer(config, wanted);
    if (chosen.producer.name !== 'rdkafka') {
      throw new RdkafkaSettingError(
        `--rdkafka-setting applies to librdkafka, and this run ships with ${chosen.producer.name}` +
          (chosen.note ? `: ${chosen.note}` : ''),
      );
    }
    const rdkafka = chosen.producer as RdkafkaProducer;
    return { producer: rdkafka.withSettings(extraSettings) };
  }
  if (wanted === 'kafkajs') return { producer: new KafkajsProducer(config) };
  if (wanted === undefined && config.connection.auth === 'iam')
    return { producer: new KafkajsProducer(config) };
  if (wanted === undefined || wanted === 'rdkafka') {
    if (config.connection.auth === 'iam') {
      return fallback(
        config,
        'librdkafka is not set up for MSK IAM here; KAFKA_AUTH=iam goes through kafkajs',
      );
    }
    const loaded = loadRdkafka();
    if (typeof loaded === 'string') {
      return fallback(
        config,
        `@confluentinc/kafka-javascript cannot be loaded (${loaded}); npm install builds it where a C/C++ compiler and OpenSSL's headers are installed, npm run build:rdkafka afterwards (README, Installing); shipping with kafkajs`,
      );
    }
    const settings = rdkafkaSettings(config, await connectionOptions(config));
    if (!settings)
      return fallback(config, 'librdkafka is not set up for this SASL mechanism here; shipping with kafkajs');
    return { producer: new RdkafkaProducer(config, loaded, settings) };
  }
  if (config.connection.auth !== 'none') {
    return fallback(
      config,
      `@platformatic/kafka is used for plaintext brokers only here; KAFKA_AUTH=${config.connection.auth} goes through kafkajs`,
    );
  }
  const loaded = await loadPlatformatic();
  if (typeof loaded === 'string') {
    return fallback(config, `@platformatic/kafka cannot be loaded (${loaded}); shipping with kafkajs`);
  }
  return { producer: new PlatformaticProducer_(config, loaded) };
}
