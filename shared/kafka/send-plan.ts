/**
 * Splitting what one request produces into produce requests the broker takes: each record goes to the
 * partition the project's partitioner picks (murmur2 of the key, as KeyHashPartitioner and the Java client),
 * each partition's records are cut into record batches that fit the topic's size limit and hold at most
 * MAX_RECORDS_PER_BATCH records, and request n carries batch n of every partition, so the records of one
 * partition keep their order across requests.
 *
 * Doing this here, with the partition set on every message, also keeps kafkajs fast: its sendBatch groups
 * messages per partition by copying the partition's array for every message (time grows with the square of
 * the messages per partition), which is harmless for MAX_RECORDS_PER_BATCH records and ruinous for 20,000.
 */
import type { Message, TopicMessages } from 'kafkajs';
import { keyPartition } from './partitioner';

/** Kafka's default for `message.max.bytes` (broker) and `max.message.bytes` (topic); Amazon MSK's too. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1048588;

/** Records per record batch: keeps kafkajs's per-partition grouping (quadratic in this number) cheap. */
export const MAX_RECORDS_PER_BATCH = 500;

/** A record batch's own header (magic v2: 61 bytes) plus room for the request's framing of it. */
export const BATCH_OVERHEAD_BYTES = 128;

export class RecordTooLargeError extends Error {
  constructor(
    readonly topic: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      `a record of ${bytes} bytes does not fit topic ${topic}, whose record batches may hold ${limit} bytes (max.message.bytes)`,
    );
  }
}

const VARINT_MAX = 5;

function byteLength(value: Message['key'] | Message['value'] | string | Buffer | undefined): number {
  if (value === null || value === undefined) return 0;
  return Buffer.isBuffer(value) ? value.length : Buffer.byteLength(value);
}

/** An upper bound of a message's size in a v2 record batch (lengths as varints of at most 5 bytes). */
export function recordBytes(message: Message): number {
  let bytes = 1 + 10 + VARINT_MAX * 4 + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) bytes += 2 * VARINT_MAX + Buffer.byteLength(name) + byteLength(v);
  }
  return bytes;
}

/** The bytes of records one batch of a topic may carry, given the topic's max.message.bytes. */
export function batchBudget(maxMessageBytes: number): number {
  return maxMessageBytes - BATCH_OVERHEAD_BYTES;
}

export interface TopicShape {
  partitions: number;
  /** The topic's effective max.message.bytes. */
  maxMessageBytes: number;
}

/** The partition of a keyed message, as KeyHashPartitioner computes it. */
function partitionOf(key: Message['key'], partitions: number): number | undefined {
  return key === null || key === undefined ? undefined : keyPartition(key, partitions);
}

/**
 * The produce requests for `topicMessages`, in the order they must be sent. Throws RecordTooLargeError when
 * one record alone exceeds its topic's budget (callers turn such records into dead letters first).
 */
export function planSends(
  topicMessages: readonly TopicMessages[],
  shapes: ReadonlyMap<string, TopicShape>,
  maxRecordsPerBatch = MAX_RECORDS_PER_BATCH,
): TopicMessages[][] {
  const batches: Array<{ topic: string; chunks: Message[][] }> = [];
  for (const { topic, messages } of topicMessages) {
    if (messages.length === 0) continue;
    const shape = shapes.get(topic);
    if (!shape) throw new Error(`no partition count and size limit known for topic ${topic}`);
    const budget = batchBudget(shape.maxMessageBytes);
    const perPartition: Message[][] = Array.from({ length: shape.partitions }, () => []);
    let roundRobin = 0;
    for (const message of messages) {
      const partition =
        message.partition ?? partitionOf(message.key, shape.partitions) ?? roundRobin++ % shape.partitions;
      perPartition[partition]!.push({ ...message, partition });
    }
    perPartition.forEach((records) => {
      const chunks: Message[][] = [];
      let chunk: Message[] = [];
      let bytes = 0;
      for (const record of records) {
        const size = recordBytes(record);
        if (size > budget) throw new RecordTooLargeError(topic, size, budget);
        if (chunk.length > 0 && (bytes + size > budget || chunk.length >= maxRecordsPerBatch)) {
          chunks.push(chunk);
          chunk = [];
          bytes = 0;
        }
        chunk.push(record);
        bytes += size;
      }
      if (chunk.length > 0) chunks.push(chunk);
      if (chunks.length > 0) batches.push({ topic, chunks });
    });
  }
  const rounds = Math.max(0, ...batches.map((b) => b.chunks.length));
  const requests: TopicMessages[][] = [];
  for (let round = 0; round < rounds; round++) {
    const byTopic = new Map<string, Message[]>();
    for (const { topic, chunks } of batches) {
      const chunk = chunks[round];
      if (!chunk) continue;
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), ...chunk]);
    }
    requests.push([...byTopic].map(([topic, messages]) => ({ topic, messages })));
  }
  return requests;
}

/**
 * A request split into one request per partition (every message names its partition), in the order the
 * partitions first appear; each partition's records keep their order.
 */
export function onePartitionEach(request: readonly TopicMessages[]): TopicMessages[][] {
  const parts = new Map<string, TopicMessages>();
  for (const { topic, messages } of request) {
    for (const m of messages) {
      const key = `${topic}-${m.partition ?? '?'}`;
      let part = parts.get(key);
      if (!part) parts.set(key, (part = { topic, messages: [] }));
      part.messages.push(m);
    }
  }
  return [...parts.values()].map((part) => [part]);
}

/** What a produce request was answered with, per partition (kafkajs's RecordMetadata, in part). */
export interface PartitionAnswer {
  topicName: string;
  partition: number;
}

/**
 * A produce request whose answers do not cover each of its partitions exactly once. kafkajs 2.2.4's
 * sendBatch sends a request's partitions to their leaders in parallel and keeps one answer per broker across
 * its retries: when a partition's leader dies and the partition moves to a broker that already answered for
 * its own partitions of the same request, the moved partition is never sent (missing), and a broker it
 * reconnected to may be sent its partitions a second time (answered twice). Either way the request resolves
 * as if all were written. (Its other failure, a part sent again while the first copy is still in flight,
 * leaves one answer: only sending one partition per call avoids it, see onePartitionEach.)
 */
export class UnansweredPartitionsError extends Error {
  constructor(
    readonly missing: string[],
    readonly repeated: string[],
    readonly unexpected: string[],
  ) {
    const problems = [
      missing.length > 0 ? `no answer for ${missing.join(', ')}` : '',
      repeated.length > 0 ? `answered more than once for ${repeated.join(', ')}` : '',
      unexpected.length > 0 ? `answers for partitions it did not carry: ${unexpected.join(', ')}` : '',
    ];
    super(
      'the produce request was not answered once for each of its partitions (a leader moved during the ' +
        `send): ${problems.filter(Boolean).join('; ')}`,
    );
  }
}

export interface AnswerCheck {
  /** The records of the partitions nobody answered for, per topic: they were never sent. */
  unsent: TopicMessages[];
  missing: string[];
  repeated: string[];
  unexpected: string[];
}

/**
 * Compares `answers` with the partitions `request` carries records for (every message of the request names
 * its partition): which were not answered, answered more than once, or answered without being asked.
 */
export function compareAnswers(
  request: readonly TopicMessages[],
  answers: readonly PartitionAnswer[],
): AnswerCheck {
  const counts = new Map<string, number>();
  for (const { topic, messages } of request) {
    for (const m of messages) counts.set(`${topic}-${m.partition ?? '?'}`, 0);
  }
  const unexpected: string[] = [];
  for (const a of answers) {
    const key = `${a.topicName}-${a.partition}`;
    const seen = counts.get(key);
    if (seen === undefined) unexpected.push(key);
    else counts.set(key, seen + 1);
  }
  const missing = [...counts].filter(([, n]) => n === 0).map(([key]) => key);
  const repeated = [...counts].filter(([, n]) => n > 1).map(([key]) => key);
  const unsent = request
    .map(({ topic, messages }) => ({
      topic,
      messages: messages.filter((m) => counts.get(`${topic}-${m.partition ?? '?'}`) === 0),
    }))
    .filter((t) => t.messages.length > 0);
  return { unsent, missing, repeated, unexpected };
}

/**
 * Checks that `answers` cover every partition `request` carries records for exactly once (and nothing
 * else); throws UnansweredPartitionsError otherwise.
 */
export function checkAnswered(request: readonly TopicMessages[], answers: readonly PartitionAnswer[]): void {
  const { missing, repeated, unexpected } = compareAnswers(request, answers);
  if (missing.length > 0 || repeated.length > 0 || unexpected.length > 0)
    throw new UnansweredPartitionsError(missing, repeated, unexpected);
}
