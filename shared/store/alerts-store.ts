/**
 * Alert state in Redis: per-minute window counts (applied once per record, like the panels) and which
 * alerts were already raised. Keys share the hash tag `{alerts}`:
 *
 *   <prefix>:{alerts}:marks             hash  `<topic>-<partition>` → last applied offset
 *   <prefix>:{alerts}:window:<minute>   hash  req, 5xx, scan:<address> → count (expires after two hours)
 *   <prefix>:{alerts}:raised:<alert id> string, set once when the alert is published (expires with it)
 */
import type Redis from 'ioredis';
import { countWindows, type AlertRecord, type WindowCounts } from '../alerts/detect';
import { applyOnce, type ApplyOutcome, type Positioned } from './apply-once';

const KEEP_SECONDS = 2 * 60 * 60;

export function alertKeys(prefix: string) {
  const base = `${prefix}:{alerts}:`;
  return {
    marks: `${base}marks`,
    window: (minute: number) => `${base}window:${minute}`,
    raised: (id: string) => `${base}raised:${id}`,
  };
}

export type AlertItem = Positioned & ({ record: AlertRecord } | { reason: string });

export async function applyAlertCounts(
  redis: Redis,
  prefix: string,
  items: AlertItem[],
): Promise<ApplyOutcome> {
  const keys = alertKeys(prefix);
  return applyOnce(redis, keys.marks, items, (fresh, call) => {
    const records = fresh.flatMap((item) => ('record' in item ? [item.record] : []));
    for (const [minute, w] of countWindows(records)) {
      const key = keys.window(minute);
      call.hincrby(key, 'req', w.requests);
      if (w.serverErrors > 0) call.hincrby(key, '5xx', w.serverErrors);
      for (const [client, n] of w.scans) call.hincrby(key, `scan:${client}`, n);
      call.expire(key, KEEP_SECONDS);
    }
  });
}

export async function readWindow(redis: Redis, prefix: string, minute: number): Promise<WindowCounts> {
  const fields = await redis.hgetall(alertKeys(prefix).window(minute));
  const scans = new Map<string, number>();
  for (const [field, value] of Object.entries(fields)) {
    if (field.startsWith('scan:')) scans.set(field.slice(5), Number(value));
  }
  return { requests: Number(fields.req ?? 0), serverErrors: Number(fields['5xx'] ?? 0), scans };
}

/** True for the one caller that gets to raise this alert. */
export async function claimAlert(redis: Redis, prefix: string, id: string): Promise<boolean> {
  return (
    (await redis.set(alertKeys(prefix).raised(id), new Date().toISOString(), 'EX', KEEP_SECONDS, 'NX')) ===
    'OK'
  );
}

/** Gives a claim back when publishing failed, so the retried batch raises the alert again. */
export async function releaseAlert(redis: Redis, prefix: string, id: string): Promise<void> {
  await redis.del(alertKeys(prefix).raised(id));
}
