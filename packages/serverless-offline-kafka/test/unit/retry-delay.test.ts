import { retryDelayMs } from '../../src/retry-delay';

describe('retryDelayMs', () => {
  it('backs off from 1 s, doubling, capped at 10 s', () => {
    expect([1, 2, 3, 4, 5, 9].map((a) => retryDelayMs(a))).toEqual([1000, 2000, 4000, 8000, 10000, 10000]);
  });
});
