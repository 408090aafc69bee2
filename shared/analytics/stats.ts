/**
 * The panels as served by GET /stats: totals, the top items of each panel, and the per-minute series. Built
 * the same way from an in-memory fold and from the store, so both read alike.
 */
import { decodeRequestKey } from './classify';
import { PANELS, SERIES, type PanelName, type SeriesName, type TrafficFold } from './fold';

export interface PanelItem {
  /** The counted value: a URI, an address, a status code, an hour, a browser... */
  key: string;
  hits: number;
  /** Requested-file panels only. */
  method?: string;
  protocol?: string;
}

export interface Panel {
  /** How many distinct keys the panel holds (items lists only the top ones). */
  unique: number;
  items: PanelItem[];
}

export interface MinutePoint {
  /** Start of the minute, ISO 8601 UTC. */
  minute: string;
  requests: number;
  status4xx: number;
  status5xx: number;
  bytes: number;
}

export interface TrafficStats {
  generatedAt: string;
  totals: {
    /** Valid plus failed, as GoAccess's "Total Requests". */
    totalRequests: number;
    validRequests: number;
    failedRequests: number;
    uniqueVisitors: number;
    bandwidth: number;
  };
  panels: Record<PanelName, Panel>;
  series: MinutePoint[];
}

const REQUEST_PANELS: ReadonlySet<PanelName> = new Set(['requests', 'static_requests', 'not_found']);

/** Most hits first; ties by key, descending: the order Redis gives sorted-set members of equal score. */
function before(a: [string, number], b: [string, number]): boolean {
  return a[1] > b[1] || (a[1] === b[1] && a[0] > b[0]);
}

/**
 * The `top` items of a panel, most hits first, in one pass (a panel of a busy site holds hundreds of
 * thousands of keys, of which a dashboard shows ten); the time distribution lists every hour in order.
 */
export function topItems(panel: PanelName, counts: Iterable<[string, number]>, top: number): Panel {
  let unique = 0;
  let order: Array<[string, number]> = [];
  if (panel === 'visit_time') {
    order = [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    unique = order.length;
  } else {
    for (const entry of counts) {
      unique++;
      if (order.length === top && !before(entry, order[top - 1]!)) continue;
      let i = order.length === top ? top - 1 : order.length;
      while (i > 0 && before(entry, order[i - 1]!)) {
        order[i] = order[i - 1]!;
        i--;
      }
      order[i] = [entry[0], entry[1]];
    }
  }
  return {
    unique,
    items: order.map(([key, hits]) => {
      if (!REQUEST_PANELS.has(panel)) return { key, hits };
      const { method, protocol, uri } = decodeRequestKey(key);
      return { key: uri, hits, method, protocol };
    }),
  };
}

/**
 * The last `minutes` minutes of the series, one point per minute (zeros where nothing happened), oldest
 * first, ending at the minute `end` (epoch seconds) — the store passes now — or, for a log read whole, at
 * the newest minute that has data. Input: per-series maps of epoch-seconds text → count.
 */
export function minuteSeries(
  series: Record<SeriesName, Iterable<[string, number]>>,
  minutes: number,
  end?: number,
): MinutePoint[] {
  const values = new Map<number, Partial<Record<SeriesName, number>>>();
  let newest = -Infinity;
  for (const name of SERIES) {
    for (const [at, value] of series[name]) {
      const seconds = Number(at);
      newest = Math.max(newest, seconds);
      const point = values.get(seconds) ?? {};
      point[name] = value;
      values.set(seconds, point);
    }
  }
  if (end !== undefined) newest = end;
  else if (newest === -Infinity) return [];
  const points: MinutePoint[] = [];
  for (let seconds = newest - (minutes - 1) * 60; seconds <= newest; seconds += 60) {
    const v = values.get(seconds) ?? {};
    points.push({
      minute: new Date(seconds * 1000).toISOString(),
      requests: v.requests ?? 0,
      status4xx: v.status4xx ?? 0,
      status5xx: v.status5xx ?? 0,
      bytes: v.bytes ?? 0,
    });
  }
  return points;
}

export interface StatsOptions {
  top?: number;
  minutes?: number;
  now?: Date;
  /** Mask client addresses in the hosts panel (GoAccess --anonymize-ip). */
  anonymizeIp?: boolean;
}

export function statsFromFold(fold: TrafficFold, options: StatsOptions = {}): TrafficStats {
  const top = options.top ?? 10;
  return {
    generatedAt: (options.now ?? new Date()).toISOString(),
    totals: {
      totalRequests: fold.totals.requests + fold.totals.failed,
      validRequests: fold.totals.requests,
      failedRequests: fold.totals.failed,
      uniqueVisitors: fold.uniqueVisitors,
      bandwidth: fold.totals.bandwidth,
    },
    panels: Object.fromEntries(PANELS.map((p) => [p, topItems(p, fold.panels[p], top)])) as Record<
      PanelName,
      Panel
    >,
    series: minuteSeries(fold.series, options.minutes ?? 60),
  };
}
