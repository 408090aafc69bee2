/**
 * The traffic panels in Redis. Every key of one deployment shares the hash tag `{analytics}`, so on a
 * clustered ElastiCache or MemoryDB they live in one slot and the apply script may touch them all at once.
 * Every structure has a bound:
 *
 *   <prefix>:{analytics}:marks                 hash  `<topic>-<partition>` → last applied offset (one per partition)
 *   <prefix>:{analytics}:totals                hash  requests, failed, bandwidth, visitors (counters stop at 2^62)
 *   <prefix>:{analytics}:visitors:<day>        set   visitor ids of one log day (a 53-bit hash of day, address,
 *                                                    agent); at most VISITORS_PER_DAY, expires KEEP_SECONDS after
 *                                                    its last write
 *   <prefix>:{analytics}:panel:<panel>         zset  key → hits; the PANEL_KEYS keys with most hits
 *   <prefix>:{analytics}:series:<series>:<hour> hash minute (epoch seconds) → count; at most 60 fields; only
 *                                                    minutes within KEEP_SECONDS before now (and a day ahead);
 *                                                    expires KEEP_SECONDS after the hour
 *   <prefix>:{analytics}:failures              hash  kind of failure (a fixed vocabulary) → count
 */
import type Redis from 'ioredis';
import { anonymizeIpEnabled, maskAddress } from '../analytics/anonymize-ip';
import {
  PANELS,
  SERIES,
  TOTALS,
  TrafficFold,
  type PanelName,
  type SeriesName,
  type TrafficRecord,
} from '../analytics/fold';
import { minuteSeries, topItems, type Panel, type StatsOptions, type TrafficStats } from '../analytics/stats';
import { LIMITS } from '../nginx/limits';
import { applyOnce, type ApplyOutcome, type Positioned } from './apply-once';

export const DEFAULT_PREFIX = 'nks';

/** How long the per-minute series and the per-day visitor sets are kept: a week, the most /stats serves. */
export const KEEP_SECONDS = 7 * 24 * 60 * 60;
/** Keys kept per panel (the most hit ones); /stats lists at most 1,000 of them. */
export const PANEL_KEYS = 10000;
/** Distinct visitors remembered per log day; beyond it, new visitors of that day are not counted. */
export const VISITORS_PER_DAY = 1000000;

export function storePrefix(env: NodeJS.ProcessEnv = process.env): string {
  return env.ANALYTICS_PREFIX || DEFAULT_PREFIX;
}

export function analyticsKeys(prefix: string) {
  const base = `${prefix}:{analytics}:`;
  return {
    base,
    marks: `${base}marks`,
    totals: `${base}totals`,
    failures: `${base}failures`,
    visitors: (day: string) => `${base}visitors:${day}`,
    panel: (name: PanelName) => `${base}panel:${name}`,
    series: (name: SeriesName, hour: number) => `${base}series:${name}:${hour}`,
  };
}

export type BatchItem = Positioned & ({ record: TrafficRecord } | { reason: string });

export interface StoreOptions {
  /** Mask client addresses in the hosts panel (GoAccess --anonymize-ip). Default: ANONYMIZE_IP. */
  anonymizeIp?: boolean;
  /** The clock, in milliseconds: series outside the kept window are not written. */
  now?: number;
}

const hourOf = (seconds: number) => seconds - (seconds % 3600);

/** Folds the records of a batch that are new and adds them to the store, at most once per record. */
export async function applyBatch(
  redis: Redis,
  prefix: string,
  items: BatchItem[],
  options: StoreOptions = {},
): Promise<ApplyOutcome> {
  const keys = analyticsKeys(prefix);
  const anonymizeIp = options.anonymizeIp ?? anonymizeIpEnabled();
  return applyOnce(redis, keys.marks, items, (fresh, call) => {
    const now = Math.floor((options.now ?? Date.now()) / 1000);
    const fold = new TrafficFold({ anonymizeIp });
    for (const item of fresh) {
      if ('record' in item) fold.add(item.record);
      else fold.fail(item.reason);
    }
    for (const name of TOTALS) {
      if (fold.totals[name] !== 0) call.hincrby(keys.totals, name, fold.totals[name]);
    }
    for (const [reason, n] of fold.failures) call.hincrby(keys.failures, reason, n);
    for (const name of PANELS) {
      if (fold.panels[name].size === 0) continue;
      for (const [member, hits] of fold.panels[name]) call.zincrby(keys.panel(name), member, hits);
      call.ztrim(keys.panel(name), PANEL_KEYS);
    }
    for (const [day, visits] of fold.visitors) {
      const key = keys.visitors(day);
      for (const visitor of visits)
        call.saddCounted(key, String(visitor), keys.totals, 'visitors', VISITORS_PER_DAY);
      call.expire(key, KEEP_SECONDS);
    }
    const from = now - KEEP_SECONDS;
    const until = now + LIMITS.futureMs / 1000;
    const hours = new Set<string>();
    for (const name of SERIES) {
      for (const [minuteText, n] of fold.series[name]) {
        const minute = Number(minuteText);
        if (!(minute >= from && minute <= until)) continue;
        const hour = hourOf(minute);
        const key = keys.series(name, hour);
        call.hincrby(key, minuteText, n);
        if (!hours.has(key)) {
          hours.add(key);
          call.expire(key, hour + 3600 + KEEP_SECONDS - now);
        }
      }
    }
  });
}

function pairs(flat: string[]): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, Number(flat[i + 1])]);
  return out;
}

/** The stats served by GET /stats, read in one round trip. */
export async function readStats(
  redis: Redis,
  prefix: string,
  options: StatsOptions = {},
): Promise<TrafficStats> {
  const keys = analyticsKeys(prefix);
  const top = options.top ?? 10;
  const minutes = Math.min(options.minutes ?? 60, KEEP_SECONDS / 60);
  const end = Math.floor((options.now ?? new Date()).getTime() / 60000) * 60;
  const hours: number[] = [];
  for (let hour = hourOf(end - (minutes - 1) * 60); hour <= end; hour += 3600) hours.push(hour);
  const pipeline = redis.pipeline();
  pipeline.hgetall(keys.totals);
  for (const name of PANELS) {
    if (name === 'visit_time') pipeline.zrange(keys.panel(name), 0, -1, 'WITHSCORES');
    else pipeline.zrevrange(keys.panel(name), 0, top - 1, 'WITHSCORES');
    pipeline.zcard(keys.panel(name));
  }
  for (const name of SERIES) for (const hour of hours) pipeline.hgetall(keys.series(name, hour));
  const results = await pipeline.exec();
  if (!results) throw new Error('the Redis pipeline was discarded');
  const values = results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
  let at = 0;
  const totals = values[at++] as Record<string, string>;
  const anonymizeIp = options.anonymizeIp ?? anonymizeIpEnabled();
  const panels = {} as Record<PanelName, Panel>;
  for (const name of PANELS) {
    let counts = pairs(values[at++] as string[]);
    // Addresses stored before masking was turned on are masked on the way out too.
    if (name === 'hosts' && anonymizeIp)
      counts = merged(counts.map(([key, hits]) => [maskAddress(key), hits]));
    const panel = topItems(name, counts, top);
    panel.unique = Number(values[at++]);
    panels[name] = panel;
  }
  const series = {} as Record<SeriesName, Array<[string, number]>>;
  for (const name of SERIES) {
    series[name] = [];
    for (let h = 0; h < hours.length; h++) {
      for (const [k, v] of Object.entries(values[at++] as Record<string, string>))
        series[name].push([k, Number(v)]);
    }
  }
  const requests = Number(totals.requests ?? 0);
  const failed = Number(totals.failed ?? 0);
  return {
    generatedAt: (options.now ?? new Date()).toISOString(),
    totals: {
      totalRequests: requests + failed,
      validRequests: requests,
      failedRequests: failed,
      uniqueVisitors: Number(totals.visitors ?? 0),
      bandwidth: Number(totals.bandwidth ?? 0),
    },
    panels,
    series: minuteSeries(series, minutes, end),
  };
}

/** Counts of equal keys added together. */
function merged(counts: Array<[string, number]>): Array<[string, number]> {
  const sums = new Map<string, number>();
  for (const [key, hits] of counts) sums.set(key, (sums.get(key) ?? 0) + hits);
  return [...sums];
}
