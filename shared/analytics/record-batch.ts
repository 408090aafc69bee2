/**
 * The analytics consumer's work for one batch: every record above its partition's high-water mark goes
 * into the panels in Redis once; records that could not be decoded are counted as failed (the batch frame
 * has already sent them to the dead-letter topic with their reason).
 */
import type { NginxBatch } from '../record/kafka-event';
import { summarizeBatch, type BatchSummary } from '../consumer/batch-summary';
import type { NginxRecord } from '../nginx/record';
import { applyBatch, storePrefix } from '../store/analytics-store';
import type { Positioned } from '../store/apply-once';
import { sharedRedis } from '../store/redis';

export interface AnalyticsBatchResult extends BatchSummary {
  /** Records added to the panels by this invocation. */
  applied: number;
  /** Records delivered again (at or below the high-water mark): not counted twice. */
  duplicates: number;
}

/** A batch's records and undecodable records, each with its position, for the idempotent stores. */
export type PositionedItem = Positioned & ({ record: NginxRecord } | { reason: string });

export function batchItems(batch: NginxBatch): PositionedItem[] {
  return [
    ...batch.records.map(({ record, delivered }) => ({ record, delivered })),
    // Counted by kind (a fixed vocabulary), so values in reasons cannot grow the failures hash.
    ...batch.invalid.map(({ kind, delivered }) => ({ reason: kind, delivered })),
  ];
}

export async function recordTraffic(batch: NginxBatch): Promise<AnalyticsBatchResult> {
  const outcome = await applyBatch(sharedRedis(), storePrefix(), batchItems(batch));
  return { ...summarizeBatch(batch), applied: outcome.applied, duplicates: outcome.duplicates };
}
