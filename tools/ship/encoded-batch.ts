/**
 * A batch of lines turned into what goes to Kafka, in a form that crosses from the parse worker to the main
 * thread as a handful of arrays instead of one object per record: the log topic's values one after another
 * in one byte array, the keys likewise, each key's murmur2 hash, and the headers once per run of records
 * that share them (every record of a file carries the same four). Dead letters are few and each has headers
 * of its own, so they stay kafkajs messages.
 *
 * The records are those of shared/ingest (prepareLines, shared/record/contract): the bytes of each value,
 * key and header are the ones kafkajs would send.
 */
import type { Message } from 'kafkajs';
import { prepareLinesInto, type LineParser, type PreparedSink } from '../../shared/ingest/ingest-lines';
import { hashPartition, keyPartition, murmur2 } from '../../shared/kafka/partitioner';

/** The lines of one batch that came from one followed path. */
export interface LineGroup {
  /** The path the user named; records carry `source: file:<path>`. */
  path: string;
  lines: string[];
  /**
   * Per line, the file actually read (the path itself, or a rotated name) and the byte offset where the line
   * starts in it: plain values, so only a rejected line pays for the text of its dead-letter position.
   */
  files: string[];
  starts: number[];
}

export interface SendCounts {
  accepted: number;
  rejected: number;
  blank: number;
}

/** The log topic's records of a batch, packed. */
export interface PackedRecords {
  count: number;
  /** Record i's value is values[valueEnds[i - 1] ?? 0 .. valueEnds[i]). */
  values: Uint8Array;
  valueEnds: Uint32Array;
  /** Record i's key is keys[keyEnds[i - 1] ?? 0 .. keyEnds[i]). */
  keys: Uint8Array;
  keyEnds: Uint32Array;
  /** murmur2 of each key: its partition is (hash & 0x7fffffff) % partitions, as the Java client picks. */
  hashes: Int32Array;
  /** Records [previous run's end, end) carry `headers` (text values). */
  runs: Array<{ end: number; headers: Record<string, string> }>;
}

export interface EncodedBatch {
  records: PackedRecords;
  deadLetters: Message[];
  counts: SendCounts;
}

/** `byte 1234`, or `access.log.1 byte 1234` for a line read from a rotated file. */
export function positionOf(group: LineGroup, index: number): string {
  const file = group.files[index]!;
  return file === group.path ? `byte ${group.starts[index]}` : `${file} byte ${group.starts[index]}`;
}

/** A byte array that grows by doubling; `write` puts a string's UTF-8 bytes at the end. */
class Bytes {
  buffer: Buffer;
  length = 0;
  constructor(capacity: number) {
    this.buffer = Buffer.allocUnsafeSlow(capacity);
  }
  write(text: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const room = this.length + text.length * 3;
    if (room > this.buffer.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(room, this.buffer.length * 2));
      this.buffer.copy(bigger, 0, 0, this.length);
      this.buffer = bigger;
    }
    this.length += this.buffer.write(text, this.length);
    return this.length;
  }
  /** The bytes written, as a view of a buffer of their own (so it can be transferred). */
  take(): Uint8Array {
    return new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.length);
  }
}

const text = (v: Message['value'] | Message['key']): string =>
  v === null || v === undefined ? '' : typeof v === 'string' ? v : v.toString('utf8');

/**
 * Packs the log topic's messages (encodeRecord's: text key, text value, text headers) as they are added,
 * so a batch never holds its records as objects and strings, only as the packed bytes.
 */
export class RecordPacker {
  private count = 0;
  private readonly values: Bytes;
  private readonly keys: Bytes;
  private valueEnds: Uint32Array;
  private keyEnds: Uint32Array;
  private hashes: Int32Array;
  private readonly runs: PackedRecords['runs'] = [];
  private headers: Message['headers'];

  /** `lines` and `chars`: how many records and value characters to expect (the arrays grow past them). */
  constructor(lines: number, chars: number) {
    this.values = new Bytes(Math.max(1024, chars));
    this.keys = new Bytes(Math.max(256, lines * 24));
    this.valueEnds = new Uint32Array(Math.max(16, lines));
    this.keyEnds = new Uint32Array(Math.max(16, lines));
    this.hashes = new Int32Array(Math.max(16, lines));
  }

  add(m: Message): void {
    const i = this.count++;
    if (i === this.valueEnds.length) {
      this.valueEnds = grown(this.valueEnds, new Uint32Array(i * 2));
      this.keyEnds = grown(this.keyEnds, new Uint32Array(i * 2));
      this.hashes = grown(this.hashes, new Int32Array(i * 2));
    }
    this.valueEnds[i] = this.values.write(text(m.value));
    const keyStart = this.keys.length;
    this.keyEnds[i] = this.keys.write(text(m.key));
    this.hashes[i] = murmur2(this.keys.buffer.subarray(keyStart, this.keys.length));
    const runs = this.runs;
    if (i === 0 || m.headers !== this.headers) {
      // encodeRecord makes a headers object per record: runs are cut where the texts differ.
      const same = i > 0 && sameTexts(runs[runs.length - 1]!.headers, m.headers);
      if (!same) runs.push({ end: i + 1, headers: textHeaders(m.headers) });
      this.headers = m.headers;
    }
    runs[runs.length - 1]!.end = i + 1;
  }

  /** The records added, packed; the arrays are cut to the count (views of their own buffers, transferable). */
  take(): PackedRecords {
    const n = this.count;
    return {
      count: n,
      values: this.values.take(),
      valueEnds: this.valueEnds.subarray(0, n),
      keys: this.keys.take(),
      keyEnds: this.keyEnds.subarray(0, n),
      hashes: this.hashes.subarray(0, n),
      runs: this.runs,
    };
  }
}

function grown<T extends Uint32Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** Packs the log topic's messages at once. */
export function packRecords(messages: readonly Message[]): PackedRecords {
  const packer = new RecordPacker(messages.length, messages.length * 512);
  for (const m of messages) packer.add(m);
  return packer.take();
}

function textHeaders(headers: Message['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new Error(`header ${name}: only text headers are packed`);
    out[name] = value;
  }
  return out;
}

function sameTexts(a: Record<string, string>, b: Message['headers']): boolean {
  if (!b) return Object.keys(a).length === 0;
  let names = 0;
  for (const name in b) {
    if (b[name] === undefined) continue;
    if (a[name] !== b[name]) return false;
    names++;
  }
  return names === Object.keys(a).length;
}

/**
 * Parses and encodes a batch's lines: the same records as the ingest function (prepareLines), dead letters
 * positioned by byte offset in their file. Runs in the parse worker, or on the main thread without one.
 */
export function encodeGroups(
  groups: readonly LineGroup[],
  formatName: string,
  parse: LineParser,
): EncodedBatch {
  const counts: SendCounts = { accepted: 0, rejected: 0, blank: 0 };
  let lines = 0;
  let chars = 0;
  for (const group of groups) {
    lines += group.lines.length;
    for (const line of group.lines) chars += line.length;
  }
  // A record's JSON holds its line and the fields taken from it (about three times the line's length with
  // the field names), written once into a buffer big enough from the start: growing it copies what is there.
  const packer = new RecordPacker(lines, chars * 3 + lines * 256);
  const deadLetters: Message[] = [];
  const sink: PreparedSink = { record: (m) => packer.add(m), deadLetter: (m) => deadLetters.push(m) };
  for (const group of groups) {
    const result = prepareLinesInto(
      sink,
      group.lines,
      { source: `file:${group.path}`, logFormat: formatName },
      parse,
      (i) => positionOf(group, i),
    );
    counts.accepted += result.accepted;
    counts.rejected += result.rejected;
    counts.blank += result.blank;
  }
  return { records: packer.take(), deadLetters, counts };
}

/** What a postMessage of the batch may hand over without copying. */
export function transferablesOf(batch: EncodedBatch): ArrayBuffer[] {
  const { values, valueEnds, keys, keyEnds, hashes } = batch.records;
  return [values.buffer, valueEnds.buffer, keys.buffer, keyEnds.buffer, hashes.buffer] as ArrayBuffer[];
}

/** Record i's value and key as views of the packed bytes (no copy). */
export function valueOf(records: PackedRecords, i: number): Uint8Array {
  const start = i === 0 ? 0 : records.valueEnds[i - 1]!;
  return new Uint8Array(
    records.values.buffer,
    records.values.byteOffset + start,
    records.valueEnds[i]! - start,
  );
}
export function keyOf(records: PackedRecords, i: number): Uint8Array {
  const start = i === 0 ? 0 : records.keyEnds[i - 1]!;
  return new Uint8Array(records.keys.buffer, records.keys.byteOffset + start, records.keyEnds[i]! - start);
}

/** A topic and how many partitions it has. */
export interface TopicPartitions {
  topic: string;
  partitions: number;
}

/** One record as the clients that take a message object per record need it. */
export interface PartitionedRecord<H> {
  topic: string;
  partition: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: H;
}

/**
 * The batch's records with their partitions, for the clients that take one message object per record
 * (kafkajs, @platformatic/kafka): a record's partition is the one its murmur2 hash from the parse worker
 * gives, its key and value are views of the packed bytes, so nothing is encoded or hashed a second time.
 * `headersOf` turns a run's headers into the client's form once, shared by the run's records. Dead letters
 * follow on their own topic: keyed ones on the partitioner's partition, unkeyed ones round-robin; a batch
 * with dead letters and no dead-letter topic is refused.
 */
export function partitionedRecords<H>(
  batch: EncodedBatch,
  records: TopicPartitions,
  deadLetters: TopicPartitions | undefined,
  headersOf: (headers: Message['headers']) => H,
): Array<PartitionedRecord<H>> {
  const packed = batch.records;
  const out: Array<PartitionedRecord<H>> = [];
  let i = 0;
  for (const run of packed.runs) {
    const headers = headersOf(run.headers);
    for (; i < run.end; i++) {
      out.push({
        topic: records.topic,
        partition: hashPartition(packed.hashes[i]!, records.partitions),
        key: bufferOf(keyOf(packed, i)),
        value: bufferOf(valueOf(packed, i)),
        headers,
      });
    }
  }
  if (batch.deadLetters.length === 0) return out;
  if (!deadLetters) throw new Error('the batch has dead letters and there is no dead-letter topic');
  batch.deadLetters.forEach((m, n) => {
    const key = m.key === null || m.key === undefined ? null : asBuffer(m.key);
    out.push({
      topic: deadLetters.topic,
      partition: key === null ? n % deadLetters.partitions : keyPartition(key, deadLetters.partitions),
      key,
      value: m.value === null || m.value === undefined ? null : asBuffer(m.value),
      headers: headersOf(m.headers),
    });
  });
  return out;
}

const bufferOf = (v: Uint8Array) => Buffer.from(v.buffer, v.byteOffset, v.length);
const asBuffer = (v: Buffer | string) => (Buffer.isBuffer(v) ? v : Buffer.from(v));
