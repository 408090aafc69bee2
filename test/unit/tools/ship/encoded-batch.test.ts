/**
 * What the parse worker hands back for a batch (encoded-batch.ts): the same records as the ingest
 * function's prepareLines, byte for byte, packed into a few arrays; dead letters with their byte positions;
 * and the records with their partitions made from the packed form for the clients that take a message object
 * per record.
 */
import { prepareLines } from '../../../../shared/ingest/ingest-lines';
import { keyPartition } from '../../../../shared/kafka/partitioner';
import { compileLogFormat } from '../../../../shared/nginx/log-format';
import { DLQ_HEADER } from '../../../../shared/record/contract';
import {
  encodeGroups,
  keyOf,
  packRecords,
  partitionedRecords,
  transferablesOf,
  valueOf,
  type LineGroup,
} from '../../../../tools/ship/encoded-batch';
import { sampleLog } from '../../../helpers/fixtures';

const format = compileLogFormat('combined');
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

function group(path: string, lines: string[], files?: string[], first = 0): LineGroup {
  const starts: number[] = [];
  let at = first;
  for (const line of lines) {
    starts.push(at);
    at += Buffer.byteLength(line) + 1;
  }
  return { path, lines, files: files ?? lines.map(() => path), starts };
}

describe('encodeGroups', () => {
  const good = sampleLog();
  // Not ASCII, to see bytes and characters kept apart.
  const unicode = good[0]!.replace(/"[^"]*"$/, '"Mozilla/5.0 (ünïcode ✓ 😀)"');

  it('packs the records prepareLines makes, byte for byte, with their keys, hashes and headers', () => {
    const lines = [...good, unicode];
    const encoded = encodeGroups([group('/var/log/a.log', lines)], format.name, format.parse);
    const expected = prepareLines(lines, { source: 'file:/var/log/a.log', logFormat: 'combined' });
    const { records } = encoded;
    expect(records.count).toBe(expected.records.length);
    expected.records.forEach((m, i) => {
      expect(text(valueOf(records, i))).toBe(m.value);
      expect(text(keyOf(records, i))).toBe(m.key);
      expect(keyPartition(String(m.key), 7)).toBe((records.hashes[i]! & 0x7fffffff) % 7);
    });
    expect(records.runs).toEqual([{ end: records.count, headers: expected.records[0]!.headers }]);
    expect(encoded.counts).toEqual({ accepted: records.count, rejected: 0, blank: 0 });
  });

  it('cuts a run of headers where the file (the source header) changes', () => {
    const encoded = encodeGroups(
      [group('/a.log', good.slice(0, 2)), group('/b.log', good.slice(0, 3))],
      format.name,
      format.parse,
    );
    expect(encoded.records.runs.map((r) => [r.end, r.headers.source])).toEqual([
      [2, 'file:/a.log'],
      [5, 'file:/b.log'],
    ]);
  });

  it('dead-letters a line that does not parse with its byte offset, and a rotated file’s name', () => {
    const lines = [good[0]!, 'junk', '', good[1]!, 'more junk'];
    const files = ['/a.log', '/a.log', '/a.log', '/a.log.1', '/a.log.1'];
    const g = group('/a.log', lines, files, 1000);
    const encoded = encodeGroups([g], format.name, format.parse);
    expect(encoded.counts).toEqual({ accepted: 2, rejected: 2, blank: 1 });
    expect(encoded.deadLetters.map((d) => d.headers?.[DLQ_HEADER.position])).toEqual([
      `byte ${g.starts[1]}`,
      `/a.log.1 byte ${g.starts[4]}`,
    ]);
    expect(encoded.deadLetters.map((d) => String(d.value))).toEqual(['junk', 'more junk']);
  });

  it('keeps a line longer than 64 KiB (cut by the reader) as a dead letter with all its bytes', () => {
    const long = 'x'.repeat(70 * 1024);
    const encoded = encodeGroups([group('/a.log', [long])], format.name, format.parse);
    expect(encoded.records.count).toBe(0);
    expect(Buffer.from(encoded.deadLetters[0]!.value as Buffer).length).toBe(long.length);
  });

  it('grows its byte arrays past their first size', () => {
    const big = good[0]!.replace(/"[^"]*"$/, `"${'a'.repeat(3000)}"`);
    const lines = Array.from({ length: 50 }, () => big);
    const encoded = encodeGroups([group('/a.log', lines)], format.name, format.parse);
    const expected = prepareLines(lines, { source: 'file:/a.log', logFormat: 'combined' });
    expect(encoded.records.count).toBe(50);
    expect(text(valueOf(encoded.records, 49))).toBe(expected.records[49]!.value);
  });
});

describe('the packed form', () => {
  it('gives back prepareLines’ records with the partitioner’s partitions, dead letters on their topic, for kafkajs and @platformatic/kafka', () => {
    const expected = prepareLines(
      [...sampleLog(), 'junk'],
      { source: 'file:/a', logFormat: 'combined' },
      undefined,
      (i) => `byte ${i}`,
    );
    expect(expected.deadLetters).toHaveLength(1);
    const encoded = {
      records: packRecords(expected.records),
      deadLetters: expected.deadLetters,
      counts: { accepted: 0, rejected: 0, blank: 0 },
    };
    const made = partitionedRecords(
      encoded,
      { topic: 't', partitions: 3 },
      { topic: 't-dlq', partitions: 2 },
      (h) => h,
    );
    const records = made.filter((r) => r.topic === 't');
    expect(records.map((r) => ({ key: String(r.key), value: String(r.value), headers: r.headers }))).toEqual(
      expected.records,
    );
    for (const r of records) expect(r.partition).toBe(keyPartition(r.key!, 3));
    // The records of a run share one headers object, made once.
    expect(new Set(records.map((r) => r.headers)).size).toBe(1);
    const letters = made.filter((r) => r.topic === 't-dlq');
    expect(letters.map((r) => ({ key: String(r.key), value: r.value, headers: r.headers }))).toEqual(
      expected.deadLetters,
    );
    expect(letters[0]!.partition).toBe(keyPartition(letters[0]!.key!, 2));
  });

  it('refuses dead letters when there is no dead-letter topic', () => {
    const expected = prepareLines(['junk'], { source: 'file:/a', logFormat: 'combined' });
    const encoded = {
      records: packRecords([]),
      deadLetters: expected.deadLetters,
      counts: { accepted: 0, rejected: 0, blank: 0 },
    };
    expect(() => partitionedRecords(encoded, { topic: 't', partitions: 3 }, undefined, (h) => h)).toThrow(
      /no dead-letter topic/,
    );
  });

  it('gives nothing for an empty batch, and transfers its five byte arrays', () => {
    const encoded = {
      records: packRecords([]),
      deadLetters: [],
      counts: { accepted: 0, rejected: 0, blank: 0 },
    };
    expect(partitionedRecords(encoded, { topic: 't', partitions: 3 }, undefined, (h) => h)).toEqual([]);
    expect(new Set(transferablesOf(encoded)).size).toBe(5);
  });
});
