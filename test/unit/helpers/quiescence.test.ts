/**
 * The control for every "exactly N" check that waits for quiescence: a count that moves once more after
 * looking settled is seen, not missed.
 */
import { waitForQuiet } from '../../helpers/quiescence';

it('returns the value after a late change, not the one before it', async () => {
  // 3 for a few polls (shorter than quietMs), then a late duplicate makes it 4 for good.
  const values = [3, 3, 3, 4];
  let polls = 0;
  const settled = await waitForQuiet(() => values[Math.min(polls++, values.length - 1)], 'the count', {
    quietMs: 1000,
    timeoutMs: 10000,
  });
  expect(settled).toBe(4);
  expect(polls).toBeGreaterThan(values.length);
});

it('gives up with a message when the value never stays still', async () => {
  let n = 0;
  await expect(waitForQuiet(() => n++, 'a counter', { quietMs: 500, timeoutMs: 1000 })).rejects.toThrow(
    'timed out after 1000 ms waiting for a counter to stay unchanged for 500 ms',
  );
});
