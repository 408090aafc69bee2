/**
 * Waiting for a topic or a consumer group to be still before counting "exactly N": waiting for "at least N"
 * returns on the N-th record and would miss a duplicate arriving a moment later. Still means: the end
 * offsets (and the group's commits, and what the test itself saw) unchanged for `quietMs`, polled with a
 * deadline.
 */
import { countRecords, withAdmin } from './kafka';
import { waitFor } from './wait';

export interface QuietOptions {
  /** How long nothing may change. */
  quietMs?: number;
  timeoutMs?: number;
}

/** Polls `snapshot` until it has been equal (as JSON) for `quietMs`; returns that snapshot. */
export async function waitForQuiet<T>(
  snapshot: () => Promise<T> | T,
  what: string,
  { quietMs = 1500, timeoutMs = 30000 }: QuietOptions = {},
): Promise<T> {
  let last: string | undefined;
  let since = Date.now();
  return waitFor(
    async () => {
      const value = await snapshot();
      const text = JSON.stringify(value);
      if (text !== last) {
        last = text;
        since = Date.now();
        return undefined;
      }
      return Date.now() - since >= quietMs ? value : undefined;
    },
    `${what} to stay unchanged for ${quietMs} ms`,
    timeoutMs,
  );
}

/**
 * How many records a consumer reads from the topic once its end offsets have stopped moving. Counted by
 * reading, not from the offsets: a transaction's commit marker takes an offset too.
 */
export async function settledRecordCount(topic: string, options?: QuietOptions): Promise<number> {
  await withAdmin((admin) =>
    waitForQuiet(
      async () => (await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.low, o.high]),
      `the end offsets of ${topic}`,
      options,
    ),
  );
  return countRecords(topic);
}

/**
 * Waits until `group` has committed the end of every partition of `topic` (lag zero), and neither the
 * offsets nor `seen` (what the test's consumers counted) changed for `quietMs`.
 */
export async function waitForGroupDrained(
  group: string,
  topic: string,
  seen: () => number,
  options?: QuietOptions,
): Promise<void> {
  await withAdmin((admin) =>
    waitForQuiet(
      async () => {
        const [ends, [committed]] = await Promise.all([
          admin.fetchTopicOffsets(topic),
          admin.fetchOffsets({ groupId: group, topics: [topic] }),
        ]);
        const lag = ends.map((end) => {
          const at = committed!.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
          return Number(end.high) - (at === '-1' ? Number(end.low) : Number(at));
        });
        // Not still while anything is left to handle: a changing token keeps the wait going.
        if (lag.some((n) => n !== 0)) return { pending: Date.now() };
        return { ends: ends.map((e) => e.high), seen: seen() };
      },
      `group ${group} on ${topic} to have no lag`,
      options,
    ),
  );
}
