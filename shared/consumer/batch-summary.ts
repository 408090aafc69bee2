/** What one batch of nginx records contained: the per-batch work of the summarizing consumers. */
import { HEADER, RECORD_VERSION } from '../record/contract';
import { headerText, type NginxBatch } from '../record/kafka-event';

export interface BatchSummary {
  records: number;
  invalid: number;
  /** `"<topic>-<partition>"` → first and last offset delivered, and how many records. */
  partitions: Record<string, { first: number; last: number; count: number }>;
  /** Status class (`2xx`, `4xx`, ...) → count. */
  statuses: Record<string, number>;
  bytes: number;
  clients: number;
  /** The most requested paths, most first. */
  topPaths: Array<[string, number]>;
  /** `source` header → count: which file or request the records came from. */
  sources: Record<string, number>;
  /** Records written under another contract version than this code reads. */
  otherVersions: number;
}

const TOP_PATHS = 5;

function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

export function summarizeBatch(batch: NginxBatch): BatchSummary {
  const summary: BatchSummary = {
    records: batch.records.length,
    invalid: batch.invalid.length,
    partitions: {},
    statuses: {},
    bytes: 0,
    clients: 0,
    topPaths: [],
    sources: {},
    otherVersions: 0,
  };
  const clients = new Set<string>();
  const paths: Record<string, number> = {};
  for (const { delivered } of [...batch.records, ...batch.invalid]) {
    const key = `${delivered.topic}-${delivered.partition}`;
    const range = summary.partitions[key];
    if (!range) summary.partitions[key] = { first: delivered.offset, last: delivered.offset, count: 1 };
    else {
      range.first = Math.min(range.first, delivered.offset);
      range.last = Math.max(range.last, delivered.offset);
      range.count++;
    }
  }
  for (const { record, delivered } of batch.records) {
    bump(summary.statuses, `${Math.floor(record.status / 100)}xx`);
    summary.bytes += record.bodyBytesSent;
    clients.add(record.remoteAddr);
    if (record.path !== null) bump(paths, record.path);
    bump(summary.sources, headerText(delivered, HEADER.source) ?? 'unknown');
    if (headerText(delivered, HEADER.version) !== RECORD_VERSION) summary.otherVersions++;
  }
  summary.clients = clients.size;
  summary.topPaths = Object.entries(paths)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, TOP_PATHS);
  return summary;
}
