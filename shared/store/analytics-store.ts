/**
 * The traffic panels in Redis. Every key of one deployment shares the hash tag `{analytics}`, so on a
 * clustered ElastiCache or MemoryDB they live in one slot and the apply script may touch them all at once.
 *
 *   <prefix>:{analytics}:marks            hash  `<topic>-<partition>` → last applied offset
 *   <prefix>:{analytics}:totals           hash  requests, failed, bandwidth
 *   <prefix>:{analytics}:visitors         set   visitor ids (a 53-bit hash of day, address, agent)
 *   <prefix>:{analytics}:panel:<panel>    zset  key → hits
 *   <prefix>:{analytics}:series:<series>  hash  minute (epoch seconds) → count
 *   <prefix>:{analytics}:failures         hash  reason → count
 */
import type Redis from 'ioredis';
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
import { applyOnce, type ApplyOutcome, type Positioned } from './apply-once';

export const DEFAULT_PREFIX = 'nks';

export function storePrefix(env: NodeJS.ProcessEnv = process.env): string {
  return env.ANALYTICS_PREFIX || DEFAULT_PREFIX;
}

export function analyticsKeys(prefix: string) {
  const base = `${prefix}:{analytics}:`;
  return {
    marks: `${base}marks`,
    totals: `${base}totals`,
    visitors: `${base}visitors`,
    failures: `${base}failures`,
    panel: (name: PanelName) => `${base}panel:${name}`,
    series: (name: SeriesName) => `${base}series:${name}`,
  };
}

export type BatchItem = Positioned & ({ record: TrafficRecord } | { reason: string });

/** Folds the records of a batch that are new and adds them to the store, at most once per record. */
export async function applyBatch(redis: Redis, prefix: string, items: BatchItem[]): Promise<ApplyOutcome> {
  const keys = analyticsKeys(prefix);
  return applyOnce(redis, keys.marks, items, (fresh, call) => {
    const fold = new TrafficFold();
    for (const item of fresh) {
      if ('record' in item) fold.add(item.record);
      else fold.fail(item.reason);
    }
    for (const name of TOTALS) {
      if (fold.totals[name] !== 0) call.hincrby(keys.totals, name, fold.totals[name]);
    }
    for (const [reason, n] of fold.failures) call.hincrby(keys.failures, reason, n);
    for (const name of PANELS) {
      for (const [member, hits] of fold.panels[name]) call.zincrby(keys.panel(name), member, hits);
    }
    for (const visitor of fold.visitors) call.sadd(keys.visitors, String(visitor));
    for (const name of SERIES) {
      for (const [minute, n] of fold.series[name]) call.hincrby(keys.series(name), minute, n);
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
  const pipeline = redis.pipeline();
  pipeline.hgetall(keys.totals);
  pipeline.scard(keys.visitors);
  for (const name of PANELS) {
    if (name === 'visit_time') pipeline.zrange(keys.panel(name), 0, -1, 'WITHSCORES');
    else pipeline.zrevrange(keys.panel(name), 0, top - 1, 'WITHSCORES');
    pipeline.zcard(keys.panel(name));
  }
  for (const name of SERIES) pipeline.hgetall(keys.series(name));
  const results = await pipeline.exec();
  if (!results) throw new Error('the Redis pipeline was discarded');
  const values = results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
  let at = 0;
  const totals = values[at++] as Record<string, string>;
  const visitors = Number(values[at++]);
  const panels = {} as Record<PanelName, Panel>;
  for (const name of PANELS) {
    const panel = topItems(name, pairs(values[at++] as string[]), top);
    panel.unique = Number(values[at++]);
    panels[name] = panel;
  }
  const series = {} as Record<SeriesName, Array<[string, number]>>;
  for (const name of SERIES) {
    series[name] = Object.entries(values[at++] as Record<string, string>).map(([k, v]) => [k, Number(v)]);
  }
  const requests = Number(totals.requests ?? 0);
  const failed = Number(totals.failed ?? 0);
  return {
    generatedAt: (options.now ?? new Date()).toISOString(),
    totals: {
      totalRequests: requests + failed,
      validRequests: requests,
      failedRequests: failed,
      uniqueVisitors: visitors,
      bandwidth: Number(totals.bandwidth ?? 0),
    },
    panels,
    series: minuteSeries(series, options.minutes ?? 60),
  };
}
