/**
 * Lines in, records out: parse each line, produce the records to the log topic and the lines that are
 * not nginx output to the dead-letter topic, in one acknowledged batch. Shared by the ingest function and
 * the shipper so both produce the same records with the same keys.
 */
import type { Message, Producer } from 'kafkajs';
import type { PipelineConfig } from '../config';
import { sendAll } from '../kafka/producer';
import { parseCombined } from '../nginx/combined';
import type { ParseResult } from '../nginx/record';
import { encodeDeadLetter, encodeRecord, type LineOrigin } from '../record/contract';

export type LineParser = (line: string) => ParseResult;

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

/** Pure part: turns lines into the messages for both topics. */
export function prepareLines(
  lines: readonly string[],
  origin: LineOrigin,
  parse: LineParser = parseCombined,
  positions: LinePositions = 1,
): PreparedBatch {
  const batch: PreparedBatch = {
    records: [],
    deadLetters: [],
    result: { source: origin.source, accepted: 0, rejected: 0, blank: 0, rejections: [] },
  };
  lines.forEach((line, index) => {
    if (line.trim().length === 0) {
      batch.result.blank++;
      return;
    }
    const parsed = parse(line);
    if (parsed.ok) {
      batch.records.push(encodeRecord(parsed.record, origin));
      batch.result.accepted++;
      return;
    }
    const lineNumber = typeof positions === 'number' ? positions + index : index + 1;
    batch.deadLetters.push(
      encodeDeadLetter({
        original: line,
        reason: parsed.reason,
        stage: 'parse',
        source: origin.source,
        position: typeof positions === 'number' ? `line ${lineNumber}` : positions(index),
      }),
    );
    batch.result.rejected++;
    if (batch.result.rejections.length < MAX_REPORTED_REJECTIONS) {
      batch.result.rejections.push({ line: lineNumber, reason: parsed.reason });
    }
  });
  return batch;
}

export async function ingestLines(
  producer: Producer,
  config: Pick<PipelineConfig, 'topic' | 'deadLetterTopic'>,
  lines: readonly string[],
  origin: LineOrigin,
  parse?: LineParser,
): Promise<IngestResult> {
  const batch = prepareLines(lines, origin, parse);
  await sendAll(producer, [
    { topic: config.topic, messages: batch.records },
    { topic: config.deadLetterTopic, messages: batch.deadLetters },
  ]);
  return batch.result;
}
