/**
 * The analytics consumer's work for one batch: every record above its partition's high-water mark goes
 * into the panels in Redis once; records that could not be decoded are counted as failed (the batch frame
 * has already sent them to the dead-letter topic with their reason).
 */
import type { NginxBatch } from '../record/kafka-event';
import { summarizeBatch, type BatchSummary } from '../consumer/batch-summary';
import { applyBatch, storePrefix, type BatchItem } from '../store/analytics-store';
import { sharedRedis } from '../store/redis';

export interface AnalyticsBatchResult extends BatchSummary {
  /** Records added to the panels by this invocation. */
  applied: number;
  /** Records delivered again (at or below the high-water mark): not counted twice. */
  duplicates: number;
}

export function batchItems(batch: NginxBatch): BatchItem[] {
  return [
    ...batch.records.map(({ record, delivered }) => ({ record, delivered })),
    ...batch.invalid.map(({ reason, delivered }) => ({ reason, delivered })),
  ];
}

export async function recordTraffic(batch: NginxBatch): Promise<AnalyticsBatchResult> {
  const outcome = await applyBatch(sharedRedis(), storePrefix(), batchItems(batch));
  return { ...summarizeBatch(batch), applied: outcome.applied, duplicates: outcome.duplicates };
}
