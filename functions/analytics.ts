/** Fanout member, consumer group "analytics": every record, summarized per batch. */
import { kafkaBatchHandler } from '../shared/consumer/batch-handler';
import { summarizeBatch } from '../shared/consumer/batch-summary';

export const handler = kafkaBatchHandler('analytics', summarizeBatch);
