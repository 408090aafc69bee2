/** Client and server errors in one batch, and who caused the most of them. */
import type { NginxBatch } from '../record/kafka-event';
import { summarizeBatch, type BatchSummary } from './batch-summary';

export interface ErrorSummary extends Pick<BatchSummary, 'records' | 'invalid' | 'partitions' | 'sources'> {
  clientErrors: number;
  serverErrors: number;
  /** Share of the batch's records that are 5xx, 0..1. */
  serverErrorRate: number;
  /** Clients with the most 4xx/5xx answers, most first. */
  topErrorClients: Array<[string, number]>;
}

const TOP = 5;

export function summarizeErrors(batch: NginxBatch): ErrorSummary {
  const { records, invalid, partitions, sources } = summarizeBatch(batch);
  let clientErrors = 0;
  let serverErrors = 0;
  const byClient = new Map<string, number>();
  for (const { record } of batch.records) {
    if (record.status < 400) continue;
    if (record.status >= 500) serverErrors++;
    else clientErrors++;
    byClient.set(record.remoteAddr, (byClient.get(record.remoteAddr) ?? 0) + 1);
  }
  return {
    records,
    invalid,
    partitions,
    sources,
    clientErrors,
    serverErrors,
    serverErrorRate: records === 0 ? 0 : serverErrors / records,
    topErrorClients: [...byClient.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, TOP),
  };
}
