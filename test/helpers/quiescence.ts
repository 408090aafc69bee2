/**
 * Waiting for a topic or a consumer group to be still before counting "exactly N": waiting for "at least N"
 * returns on the N-th record and would miss a duplicate arriving a moment later. Still means: the end
 * offsets (and the group's commits, and what the test itself saw) unchanged for `quietMs`, polled with a
 * deadline like every other wait (test/helpers/wait.ts).
 */
import type { Admin } from 'kafkajs';
import { brokers, withAdmin } from './kafka';
import { topicRecords } from './producing';
import {
  waitForQuiet,
  type QuietOptions,
} from '../../packages/serverless-offline-kafka/test/helpers/quiescence';

// Waiting for stillness, and for a group to be drained: the package's helpers.
export {
  waitForGroupDrained,
  waitForQuiet,
  type QuietOptions,
} from '../../packages/serverless-offline-kafka/test/helpers/quiescence';

/** Partition → records on it (high watermark minus low), per partition. */
async function topicSizes(admin: Admin, topic: string): Promise<Record<number, number>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return Object.fromEntries(offsets.map((o) => [o.partition, Number(o.high) - Number(o.low)]));
}

/**
 * How many records a consumer reads from the topic once its end offsets have stopped moving. Counted by
 * reading (topicRecords: kcat, read_committed), not from the offsets: a transaction's commit marker takes
 * an offset too.
 */
export async function settledRecordCount(topic: string, options?: QuietOptions): Promise<number> {
  await withAdmin((admin) =>
    waitForQuiet(() => topicSizes(admin, topic), `the end offsets of ${topic}`, options),
  );
  return (await topicRecords(brokers(), topic)).length;
}
