/**
 * How much one partition's poller may hold between fetching and invoking. Lambda's pollers keep about a
 * batch or two per partition ahead of the function; locally the same: a partition's fetching pauses once
 * it holds two batches (`2 × batchSize` records) or 6 MiB of keys, values and headers (one maximal
 * invocation payload), and resumes once it is down to half of both. Fetching is in steps of at most
 * `fetchBytesPerPartition` (1 MiB, Kafka's own max.partition.fetch.bytes default), and a fetch already on
 * its way when the partition pauses is discarded by the consumer, so what a partition ever holds is below
 * the pause threshold plus one fetch: `records + ⌈fetchBytesPerPartition / smallest record⌉` records and
 * `bytes + fetchBytesPerPartition` bytes (the broker hands out at least one record batch however large, so
 * a single record batch above 1 MiB is held whole). A group holds that per partition assigned to it.
 */
export interface FlowBound {
  /** Records held before the partition pauses. */
  records: number;
  /** Bytes (keys, values, headers) held before the partition pauses. */
  bytes: number;
  /** Most bytes one fetch brings for one partition. */
  fetchBytesPerPartition: number;
}

export const DEFAULT_MAX_BUFFERED_BYTES = 6 * 1024 * 1024;
export const DEFAULT_FETCH_BYTES_PER_PARTITION = 1024 * 1024;

export function flowBound(
  batchSize: number,
  options: { maxBufferedRecords?: number; maxBufferedBytes?: number; fetchBytesPerPartition?: number } = {},
): FlowBound {
  return {
    // Never less than two batches: one being invoked, one gathering.
    records: Math.max(options.maxBufferedRecords ?? 0, 2 * batchSize),
    bytes: options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
    fetchBytesPerPartition: options.fetchBytesPerPartition ?? DEFAULT_FETCH_BYTES_PER_PARTITION,
  };
}

/** Whether a partition holding this much stops fetching. */
export function mustPause(bound: FlowBound, records: number, bytes: number): boolean {
  return records >= bound.records || bytes >= bound.bytes;
}

/** Whether a paused partition holding this much fetches again. */
export function mayResume(bound: FlowBound, records: number, bytes: number): boolean {
  return records <= bound.records / 2 && bytes <= bound.bytes / 2;
}
