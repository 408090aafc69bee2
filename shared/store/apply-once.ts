/**
 * Idempotent writes per Kafka record: increments computed only from records above each partition's
 * high-water mark, applied together with the new marks in one atomic script, retried when another writer
 * moved a mark in between.
 */
import type Redis from 'ioredis';
import { APPLY_SCRIPT, ApplyCall } from './apply-script';

export interface Positioned {
  delivered: { topic: string; partition: number; offset: number };
}

export interface ApplyOutcome {
  /** Records above the marks, whose increments were applied. */
  applied: number;
  /** Records at or below the marks: delivered before, not counted again. */
  duplicates: number;
  /** New values of the call's HINCRBY operations, by label. */
  counters: Map<string, number>;
}

type ApplyCommand = (numKeys: number, ...args: string[]) => Promise<number[]>;

function applyCommand(redis: Redis): ApplyCommand {
  const r = redis as unknown as { nksApply?: ApplyCommand };
  if (!r.nksApply) redis.defineCommand('nksApply', { lua: APPLY_SCRIPT });
  return (r.nksApply as ApplyCommand).bind(redis);
}

export class ApplyConflictError extends Error {}

export async function applyOnce<T extends Positioned>(
  redis: Redis,
  markKey: string,
  items: T[],
  build: (fresh: T[], call: ApplyCall) => void,
  attempts = 8,
): Promise<ApplyOutcome> {
  const field = (t: T) => `${t.delivered.topic}-${t.delivered.partition}`;
  const fields = [...new Set(items.map(field))];
  if (fields.length === 0) return { applied: 0, duplicates: 0, counters: new Map() };
  const apply = applyCommand(redis);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const stored = await redis.hmget(markKey, ...fields);
    const marks = new Map<string, number | undefined>(
      fields.map((f, i) => [f, stored[i] == null ? undefined : Number(stored[i])]),
    );
    const fresh = items.filter((t) => t.delivered.offset > (marks.get(field(t)) ?? -1));
    if (fresh.length === 0) return { applied: 0, duplicates: items.length, counters: new Map() };
    const call = new ApplyCall(markKey);
    const highest = new Map<string, number>();
    for (const t of fresh) highest.set(field(t), Math.max(highest.get(field(t)) ?? -1, t.delivered.offset));
    for (const [f, next] of highest) call.mark(f, marks.get(f), next);
    build(fresh, call);
    const result = await apply(call.keys.length, ...call.keys, ...call.args());
    if (result[0] === 1) {
      const counters = new Map<string, number>();
      call.counters.forEach((label, i) => counters.set(label, Number(result[i + 1])));
      return { applied: fresh.length, duplicates: items.length - fresh.length, counters };
    }
    // Another writer moved a mark: read the marks again and recompute from what is still new.
  }
  throw new ApplyConflictError(
    `high-water marks in ${markKey} kept moving; gave up after ${attempts} attempts`,
  );
}
