/**
 * serverless-offline's own Lambda runner, as the project's event-source plugins and its HTTP routes use it
 * (a worker thread per warm instance), with the install-time patch of local/offline-patches/ applied. On Lambda a
 * timed-out invocation ends with an error and the next one runs normally: it does not inherit the hang.
 * The runner is an ES module package, so it runs in a child process (test/fixtures/offline-handlers/).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/fixtures';

jest.setTimeout(90000);

const TIMEOUT_S = 4;

interface Result {
  ms: number;
  value?: unknown;
  error?: string;
}

async function invokeInSequence(events: unknown[]): Promise<Result[]> {
  const script = join(ROOT, 'test', 'fixtures', 'offline-handlers', 'invoke-in-sequence.js');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [script, JSON.stringify(events), String(TIMEOUT_S)],
    { cwd: ROOT, timeout: 80000 },
  );
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Result);
}

it('after an invocation that hangs and times out, the next invocation answers within its normal time', async () => {
  const [cold, warm, hung, after, next] = await invokeInSequence([
    { n: 1 }, // normal time of a cold start: a new worker thread loads the handler
    { n: 2 }, // normal time of a warm call
    { hang: true },
    { n: 3 },
    { n: 4 },
  ]);
  expect(cold!.value).toEqual({ answered: 1 });
  expect(warm!.value).toEqual({ answered: 2 });

  expect(hung!.error).toBe('[504] - Lambda timeout.');
  expect(hung!.ms).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 50);

  // The instance that timed out is idle again and is reused. Unpatched 13.9 posts to its terminated worker
  // thread: this call hangs for the whole timeout and fails again. Here it answers as a cold start does.
  expect(after!.error).toBeUndefined();
  expect(after!.value).toEqual({ answered: 3 });
  expect(after!.ms).toBeLessThan(Math.max(cold!.ms, warm!.ms) + 1500);
  expect(after!.ms).toBeLessThan(TIMEOUT_S * 1000);
  expect(next!.value).toEqual({ answered: 4 });
});
