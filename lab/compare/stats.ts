/** Figures from deliveries: percentiles, throughput, order violations per key. */
import type { Delivery } from './broker';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export function latencies(deliveries: readonly Delivery[]): { p50: number; p99: number } {
  const sorted = deliveries.map((d) => d.receivedAt - d.sentAt).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/** Deliveries that arrived after a later record of the same key had already arrived. */
export function orderViolations(deliveries: readonly Delivery[]): number {
  const highest = new Map<string, number>();
  let violations = 0;
  for (const d of deliveries) {
    const top = highest.get(d.key);
    if (top !== undefined && d.seq < top) violations++;
    else highest.set(d.key, d.seq);
  }
  return violations;
}

/** Deliveries of a sequence number seen before. */
export function duplicates(deliveries: readonly Delivery[]): number {
  return deliveries.length - new Set(deliveries.map((d) => d.seq)).size;
}
