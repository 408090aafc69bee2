import { MAX_REPORTED_REJECTIONS, prepareLines } from '../../../../shared/ingest/ingest-lines';
import { DLQ_HEADER, HEADER } from '../../../../shared/record/contract';
import { sampleLog } from '../../../helpers/fixtures';

const origin = { source: 'http:req-1', logFormat: 'combined' };

describe('prepareLines', () => {
  it('turns every nginx line into a record message keyed by client address', () => {
    const batch = prepareLines(sampleLog(), origin);
    expect(batch.result).toEqual({
      source: 'http:req-1',
      accepted: 4,
      rejected: 0,
      blank: 0,
      rejections: [],
    });
    expect(batch.records.map((m) => m.key)).toEqual([
      '192.168.1.1',
      '192.168.1.2',
      '192.168.1.3',
      '192.168.1.4',
    ]);
    expect(batch.records[0]!.headers![HEADER.source]).toBe('http:req-1');
    expect(batch.deadLetters).toEqual([]);
  });

  it('sends a line that is not nginx output to the dead letters with its reason and line number', () => {
    const batch = prepareLines([sampleLog()[0]!, 'garbage here', '', sampleLog()[1]!], origin);
    expect(batch.result).toMatchObject({ accepted: 2, rejected: 1, blank: 1 });
    expect(batch.result.rejections).toEqual([
      {
        line: 2,
        reason:
          'not nginx combined format at column 1: client address "garbage" is not an IPv4 or IPv6 address',
      },
    ]);
    const [letter] = batch.deadLetters;
    expect(letter!.value!.toString()).toBe('garbage here');
    expect(letter!.headers![DLQ_HEADER.position]).toBe('line 2');
    expect(letter!.headers![DLQ_HEADER.source]).toBe('http:req-1');
  });

  it('numbers lines from firstLine, for callers that send a file in pieces', () => {
    expect(prepareLines(['x'], origin, undefined, 1001).result.rejections[0]!.line).toBe(1001);
  });

  it('reports the first rejections only, but dead-letters every one', () => {
    const lines = Array.from({ length: MAX_REPORTED_REJECTIONS + 5 }, (_, i) => `bad ${i}`);
    const batch = prepareLines(lines, origin);
    expect(batch.result.rejected).toBe(lines.length);
    expect(batch.result.rejections).toHaveLength(MAX_REPORTED_REJECTIONS);
    expect(batch.deadLetters).toHaveLength(lines.length);
  });
});
