import { flowBound, mayResume, mustPause } from '../../src/flow-bound';

const MiB = 1024 * 1024;

describe('flowBound', () => {
  it('holds two batches and 6 MiB per partition, fetching 1 MiB at a time, by default', () => {
    expect(flowBound(100)).toEqual({ records: 200, bytes: 6 * MiB, fetchBytesPerPartition: MiB });
  });

  it('never holds fewer than two batches, whatever is asked', () => {
    expect(flowBound(100, { maxBufferedRecords: 10 }).records).toBe(200);
    expect(flowBound(5, { maxBufferedRecords: 50 }).records).toBe(50);
  });
});

describe('mustPause and mayResume', () => {
  const bound = flowBound(100);

  it('pauses at the record or the byte threshold, whichever comes first', () => {
    expect(mustPause(bound, 199, MiB)).toBe(false);
    expect(mustPause(bound, 200, 0)).toBe(true);
    expect(mustPause(bound, 1, 6 * MiB)).toBe(true);
  });

  it('resumes only once both are down to half, so a partition does not flap at the threshold', () => {
    expect(mayResume(bound, 150, 0)).toBe(false);
    expect(mayResume(bound, 100, 4 * MiB)).toBe(false);
    expect(mayResume(bound, 100, 3 * MiB)).toBe(true);
  });
});
