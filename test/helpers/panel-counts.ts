/**
 * Panels as plain counts (`key → hits`), the form hand-counted fixtures are written in: comparing counts,
 * not the order of equal-hit items, and never an answer computed by the code under test.
 */
import type { PanelName } from '../../shared/analytics/fold';
import type { TrafficStats } from '../../shared/analytics/stats';
import { fixtureText } from './fixtures';

export type PanelCounts = Record<PanelName, Record<string, number>>;

export interface HandCounted {
  totals: TrafficStats['totals'];
  panels: PanelCounts;
  /** Sums over the per-minute series. */
  series: { requests: number; status4xx: number; status5xx: number; bytes: number };
}

export function handCounted(name: string): HandCounted {
  return JSON.parse(fixtureText(name)) as HandCounted;
}

/** Every item of every panel as `key → hits`; request panels keyed `METHOD PROTOCOL URI`. */
export function panelCounts(stats: TrafficStats): PanelCounts {
  return Object.fromEntries(
    Object.entries(stats.panels).map(([name, panel]) => [
      name,
      Object.fromEntries(
        panel.items.map((i) => [i.method ? `${i.method} ${i.protocol} ${i.key}` : i.key, i.hits]),
      ),
    ]),
  ) as PanelCounts;
}

/** The series summed over the minutes served. */
export function seriesSums(stats: TrafficStats): HandCounted['series'] {
  const sums = { requests: 0, status4xx: 0, status5xx: 0, bytes: 0 };
  for (const point of stats.series) {
    sums.requests += point.requests;
    sums.status4xx += point.status4xx;
    sums.status5xx += point.status5xx;
    sums.bytes += point.bytes;
  }
  return sums;
}
