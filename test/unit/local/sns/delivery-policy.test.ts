/**
 * The emulator's redelivery follows SNS's documented delivery policy for AWS-managed endpoints (Lambda,
 * SQS): 3 retries at once, 2 one second apart, 10 backing off from 1 to 20 seconds, then 100,000 twenty
 * seconds apart — 100,015 retries over 23 days (docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html).
 */
import { isRetryableAnswer, snsRetryDelayMs } from '../../../../local/sns/emulator';

describe('snsRetryDelayMs', () => {
  const delays = Array.from({ length: 16 }, (_, i) => snsRetryDelayMs(i + 1)!);

  it('retries 3 times at once, then twice 1 s apart', () => {
    expect(delays.slice(0, 5)).toEqual([0, 0, 0, 1000, 1000]);
  });

  it('backs off over 10 retries from 1 s to 20 s, never shrinking', () => {
    const backoff = delays.slice(5, 15);
    expect(backoff[0]).toBe(1000);
    expect(backoff[9]).toBe(20000);
    for (let i = 1; i < backoff.length; i++) expect(backoff[i]!).toBeGreaterThan(backoff[i - 1]!);
  });

  it('then waits 20 s until retry 100,015, and gives up after it, about 23 days in', () => {
    expect(delays[15]).toBe(20000);
    expect(snsRetryDelayMs(100015)).toBe(20000);
    expect(snsRetryDelayMs(100016)).toBeUndefined();
    let total = 0;
    for (let retry = 1; retry <= 100015; retry++) total += snsRetryDelayMs(retry)!;
    expect(total / 86400000).toBeCloseTo(23.1, 0);
  });
});

describe('isRetryableAnswer', () => {
  it('retries no answer, 429 and 5xx; a 2xx is delivered and another 4xx is not retried', () => {
    expect([undefined, 429, 500, 503].map(isRetryableAnswer)).toEqual([true, true, true, true]);
    expect([200, 202, 400, 404].map(isRetryableAnswer)).toEqual([false, false, false, false]);
  });
});
