/** What one batch of nginx records contained: the per-batch work of the summarizing consumers. */
import { HEADER, RECORD_VERSION } from '../record/contract';
import { headerText, type DeliveredRecord, type NginxBatch } from '../record/kafka-event';

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
/** `1xx` ... `5xx`, made once. */
const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

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
  // The records of one partition come in a row: its range is looked up again only when that changes.
  let range: { first: number; last: number; count: number } | undefined;
  let rangeTopic = '';
  let rangePartition = -1;
  const count = ({ delivered }: { delivered: DeliveredRecord }) => {
    if (range === undefined || delivered.partition !== rangePartition || delivered.topic !== rangeTopic) {
      rangeTopic = delivered.topic;
      rangePartition = delivered.partition;
      const key = `${rangeTopic}-${rangePartition}`;
      range = summary.partitions[key];
      if (range === undefined) {
        range = summary.partitions[key] = { first: delivered.offset, last: delivered.offset, count: 1 };
        return;
      }
    }
    range.first = Math.min(range.first, delivered.offset);
    range.last = Math.max(range.last, delivered.offset);
    range.count++;
  };
  batch.records.forEach(count);
  batch.invalid.forEach(count);
  for (const { record, delivered } of batch.records) {
    bump(
      summary.statuses,
      STATUS_CLASSES[Math.floor(record.status / 100)] ?? `${Math.floor(record.status / 100)}xx`,
    );
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
