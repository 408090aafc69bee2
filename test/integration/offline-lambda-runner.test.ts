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

async function invokeInSequence(events: unknown[], memorySize?: number): Promise<Result[]> {
  const script = join(ROOT, 'test', 'fixtures', 'offline-handlers', 'invoke-in-sequence.js');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [script, JSON.stringify(events), String(TIMEOUT_S), ...(memorySize ? [String(memorySize)] : [])],
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
  expect(cold!.value).toEqual({ answered: 1, heldMb: 0 });
  expect(warm!.value).toEqual({ answered: 2, heldMb: 0 });

  expect(hung!.error).toBe('[504] - Lambda timeout.');
  expect(hung!.ms).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 50);

  // The instance that timed out is idle again and is reused. Unpatched 13.9 posts to its terminated worker
  // thread: this call hangs for the whole timeout and fails again. Here it answers as a cold start does.
  expect(after!.error).toBeUndefined();
  expect(after!.value).toEqual({ answered: 3, heldMb: 0 });
  expect(after!.ms).toBeLessThan(Math.max(cold!.ms, warm!.ms) + 1500);
  expect(after!.ms).toBeLessThan(TIMEOUT_S * 1000);
  expect(next!.value).toEqual({ answered: 4, heldMb: 0 });
});

it('a function that outgrows its memorySize fails as Lambda says, and the next invocation gets a new instance', async () => {
  const [fits, outgrown, after] = await invokeInSequence(
    [
      { n: 1, holdMb: 24 }, // within 96 MB with the runtime's own heap
      { n: 2, holdMb: 400 },
      { n: 3 },
    ],
    96,
  );
  expect(fits!.value).toEqual({ answered: 1, heldMb: 24 });
  // Without a heap limit the worker thread takes the 400 MB (and more) and this answers.
  expect(outgrown!.value).toBeUndefined();
  expect(outgrown!.error).toMatch(/^Runtime\.OutOfMemory: .*memorySize \(96 MB/);
  // A new instance: nothing held from before, answered without waiting for a timeout.
  expect(after!.value).toEqual({ answered: 3, heldMb: 0 });
  expect(after!.ms).toBeLessThan(TIMEOUT_S * 1000);
});

it('after a runtime that ended by an error thrown outside the invocation, the next invocation gets a new instance', async () => {
  const [crashed, after] = await invokeInSequence([{ crash: true }, { n: 1 }]);
  expect(crashed!.error).toBe('thrown outside the invocation');
  expect(crashed!.ms).toBeLessThan(TIMEOUT_S * 1000);
  // Unmended, the next invocation is posted to the ended worker thread and fails with it.
  expect(after!.error).toBeUndefined();
  expect(after!.value).toEqual({ answered: 1, heldMb: 0 });
  expect(after!.ms).toBeLessThan(TIMEOUT_S * 1000);
});
