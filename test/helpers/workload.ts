/**
 * Reading the comparison workload back on the receiving side: every line lab/compare/records.ts writes carries
 * its sequence number in the path (`/r/<seq>`), which tells order and duplicates from the record alone.
 */
import type { NginxRecord } from '../../shared/nginx/record';

/** The sequence number a record carries in its path, or -1 when it carries none. */
export function sequenceOf(record: Pick<NginxRecord, 'path'>): number {
  const match = /^\/r\/(\d+)$/.exec(record.path ?? '');
  return match ? Number(match[1]) : -1;
}
