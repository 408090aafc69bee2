/**
 * One invocation of the function with a batch, bounded by the function's timeout, and the line that reports
 * it in the manner of serverless-offline's own `(λ: fn)` lines.
 */

export type Outcome = 'ok' | 'error' | 'timeout';

/** One line per invocation, in the manner of serverless-offline's own `(λ: fn)` lines. */
export function invocationLine(i: {
  functionKey: string;
  group: string;
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  count: number;
  durationMs: number;
  outcome: Outcome;
  attempt: number;
  error?: string;
}): string {
  const status =
    i.outcome === 'ok'
      ? 'OK'
      : `${i.outcome === 'timeout' ? 'TIMEOUT' : 'ERROR'} (attempt ${i.attempt}): ${i.error ?? ''}`;
  return (
    `(λ: ${i.functionKey}) Kafka group ${i.group}  ${i.topic}-${i.partition} ` +
    `offsets ${i.firstOffset}..${i.lastOffset}  ${i.count} record${i.count === 1 ? '' : 's'}  ` +
    `Duration: ${i.durationMs.toFixed(2)} ms  ${status}`
  );
}

class TimeoutError extends Error {}

/**
 * Runs `invoke(event)` for at most `timeoutSeconds`. A handler that runs longer counts as failed (it cannot
 * be stopped in-process and keeps running in the background, as serverless-offline's own runs do).
 */
export async function invokeWithTimeout(
  invoke: (event: unknown) => Promise<unknown>,
  event: unknown,
  timeoutSeconds: number,
): Promise<{ outcome: Outcome; error?: string; durationMs: number }> {
  const started = process.hrtime.bigint();
  let timer: NodeJS.Timeout | undefined;
  let outcome: Outcome = 'ok';
  let error: string | undefined;
  try {
    await Promise.race([
      invoke(event),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new TimeoutError(`Task timed out after ${timeoutSeconds.toFixed(2)} seconds`)),
          timeoutSeconds * 1000,
        );
      }),
    ]);
  } catch (err) {
    outcome = err instanceof TimeoutError ? 'timeout' : 'error';
    error = err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
  return { outcome, error, durationMs: Number(process.hrtime.bigint() - started) / 1e6 };
}
