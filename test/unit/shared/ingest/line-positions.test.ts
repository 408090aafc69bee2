import { prepareLines } from '../../../../shared/ingest/ingest-lines';
import { DLQ_HEADER } from '../../../../shared/record/contract';
import { sampleLog } from '../../../helpers/fixtures';

const origin = { source: 'file:/var/log/nginx/access.log', logFormat: 'combined' };
const position = (m: { headers?: Record<string, unknown> }) => String(m.headers?.[DLQ_HEADER.position]);

describe('prepareLines positions of dead letters', () => {
  const lines = [sampleLog()[0]!, 'junk one', sampleLog()[1]!, 'junk two'];

  it('numbers lines from the first line number by default', () => {
    const batch = prepareLines(lines, origin, undefined, 10);
    expect(batch.deadLetters.map(position)).toEqual(['line 11', 'line 13']);
  });

  it('asks a function for the position of each rejected line (the shipper gives byte offsets)', () => {
    const offsets = [0, 120, 131, 250];
    const batch = prepareLines(lines, origin, undefined, (i) => `byte ${offsets[i]}`);
    expect(batch.deadLetters.map(position)).toEqual(['byte 120', 'byte 250']);
    expect(batch.result).toMatchObject({ accepted: 2, rejected: 2 });
    expect(batch.result.rejections.map((r) => r.line)).toEqual([2, 4]);
  });
});
