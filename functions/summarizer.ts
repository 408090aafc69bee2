/**
 * Load-balancing member: two functions (summarizerA, summarizerB) run this handler in the one consumer group
 * "summarizers", so the topic's partitions are split between them and the group summarizes each record once.
 */
import { kafkaBatchHandler } from '../shared/consumer/batch-handler';
import { summarizeBatch } from '../shared/consumer/batch-summary';

export const handler = kafkaBatchHandler('summarizer', summarizeBatch);
