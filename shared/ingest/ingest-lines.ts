/**
 * Lines in, records out: parse each line, produce the records to the log topic and the lines that are
 * not nginx output to the dead-letter topic, in one acknowledged batch (one transaction through an
 * AtomicProducer). Shared by the ingest function and the shipper so both produce the same records with the
 * same keys.
 */
import type { Message, Producer } from 'kafkajs';
import type { PipelineConfig } from '../config';
import { AtomicProducer } from '../kafka/atomic-producer';
import { sendAll } from '../kafka/producer';
import { recordBytes } from '../kafka/send-plan';
import { parseCombined } from '../nginx/combined';
import type { ParseResult } from '../nginx/record';
import { encodeDeadLetter, encodeRecord, type LineOrigin } from '../record/contract';

export type LineParser = (line: string) => ParseResult;

/** A line as received: text, or the bytes themselves (a binary-safe body), kept for its dead letter. */
export type Line = string | Buffer;

/** The largest record each topic takes (AtomicProducer.maxRecordBytes). */
export interface RecordLimits {
  record: number;
  deadLetter: number;
}

export interface Rejection {
  /** 1-based position of the line in what was received. */
  line: number;
  reason: string;
}

export interface IngestResult {
  /** The `source` header the records carry, to find them again downstream. */
  source: string;
  accepted: number;
  rejected: number;
  /** Blank lines carry nothing and are skipped, but counted. */
  blank: number;
  /** The first rejections with their reasons; every one of them is in the dead-letter topic. */
  rejections: Rejection[];
}

export const MAX_REPORTED_REJECTIONS = 20;

export interface PreparedBatch {
  records: Message[];
  deadLetters: Message[];
  result: IngestResult;
}

/**
 * Where a rejected line was, for the dead-letter record: a number gives the first line's number (`line N`),
 * a function names the position of the line at an index itself (the shipper gives byte offsets in a file).
 */
export type LinePositions = number | ((index: number) => string);

/**
 * A dead letter that fits its topic: when the original line is too large even for the dead-letter topic,
 * the record keeps its first bytes and says how long the line was.
 */
function fittingDeadLetter(
  letter: Parameters<typeof encodeDeadLetter>[0],
  limit: number | undefined,
): Message {
  const whole = encodeDeadLetter(letter);
  if (limit === undefined || recordBytes(whole) <= limit) return whole;
  const original = Buffer.isBuffer(letter.original) ? letter.original : Buffer.from(letter.original ?? '');
  const kept = Math.max(0, limit - (recordBytes(whole) - original.length) - 256);
  return encodeDeadLetter({
    ...letter,
    original: original.subarray(0, kept),
    reason: `${letter.reason} (the line is ${original.length} bytes; its first ${kept} are kept here)`,
    originalLength: original.length,
  });
}

/** Where prepared messages go as each line is turned into its message. */
export interface PreparedSink {
  record(message: Message): void;
  deadLetter(message: Message): void;
}

/** The lines of one batch, where they came from, how to parse them, their positions and the topics' limits. */
type LinesInput = [
  lines: readonly Line[],
  origin: LineOrigin,
  parse?: LineParser,
  positions?: LinePositions,
  limits?: RecordLimits,
];

/**
 * Pure part: turns lines into the messages for both topics. With `limits`, a line whose record would be
 * larger than the topic takes becomes a dead letter with the reason and its length instead.
 */
export function prepareLines(...input: LinesInput): PreparedBatch {
  const records: Message[] = [];
  const deadLetters: Message[] = [];
  const result = prepareLinesInto(
    { record: (m) => records.push(m), deadLetter: (m) => deadLetters.push(m) },
    ...input,
  );
  return { records, deadLetters, result };
}

/**
 * prepareLines handing each message to `sink` as soon as it is made, in line order, instead of keeping them
 * all: a caller that packs the messages as they come (the shipper's parse worker) holds none of them longer
 * than one line.
 */
export function prepareLinesInto(
  sink: PreparedSink,
  ...[lines, origin, parse = parseCombined, positions = 1, limits]: LinesInput
): IngestResult {
  const result: IngestResult = { source: origin.source, accepted: 0, rejected: 0, blank: 0, rejections: [] };
  lines.forEach((line, index) => {
    const text = typeof line === 'string' ? line : line.toString('utf8');
    if (text.trim().length === 0) {
      result.blank++;
      return;
    }
    const parsed = parse(text);
    let reason: string;
    if (parsed.ok) {
      const record = encodeRecord(parsed.record, origin);
      // Sized only where there is a limit to hold it to (the shipper's producer checks the size itself).
      const size = limits === undefined ? 0 : recordBytes(record);
      if (limits === undefined || size <= limits.record) {
        sink.record(record);
        result.accepted++;
        return;
      }
      reason =
        `the line (${Buffer.byteLength(line)} bytes) makes a record of ${size} bytes, ` +
        `over the ${limits.record} bytes the topic takes (max.message.bytes)`;
    } else {
      reason = parsed.reason;
    }
    const lineNumber = typeof positions === 'number' ? positions + index : index + 1;
    sink.deadLetter(
      fittingDeadLetter(
        {
          original: line,
          reason,
          stage: 'parse',
          source: origin.source,
          position: typeof positions === 'number' ? `line ${lineNumber}` : positions(index),
        },
        limits?.deadLetter,
      ),
    );
    result.rejected++;
    if (result.rejections.length < MAX_REPORTED_REJECTIONS) {
      result.rejections.push({ line: lineNumber, reason });
    }
  });
  return result;
}

/**
 * Parses and produces the lines. Through an AtomicProducer (the functions) the records are sized from the
 * topics' limits and sent in one transaction: all of them are stored, once, or none. Through a plain
 * producer they go in one sendBatch.
 */
export async function ingestLines(
  producer: AtomicProducer | Producer,
  config: Pick<PipelineConfig, 'topic' | 'deadLetterTopic'>,
  lines: readonly Line[],
  origin: LineOrigin,
  parse?: LineParser,
): Promise<IngestResult> {
  const topics = (batch: PreparedBatch) => [
    { topic: config.topic, messages: batch.records },
    { topic: config.deadLetterTopic, messages: batch.deadLetters },
  ];
  if (producer instanceof AtomicProducer) {
    const limits = await producer.maxRecordBytes([config.topic, config.deadLetterTopic]);
    const batch = prepareLines(lines, origin, parse, 1, {
      record: limits.get(config.topic)!,
      deadLetter: limits.get(config.deadLetterTopic)!,
    });
    await producer.send(topics(batch));
    return batch.result;
  }
  const batch = prepareLines(lines, origin, parse);
  await sendAll(producer, topics(batch));
  return batch.result;
}
