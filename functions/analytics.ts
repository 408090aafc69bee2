/**
 * Fanout member, consumer group "analytics": every record into the traffic panels in Redis, once; and the
 * one group that sends records no consumer can decode to the dead-letter topic (one letter per record).
 */
import { recordTraffic } from '../shared/analytics/record-batch';
import { kafkaBatchHandler } from '../shared/consumer/batch-handler';
import { releasingRedis } from '../shared/store/redis';

export const handler = releasingRedis(
  kafkaBatchHandler('analytics', recordTraffic, { writesDeadLetters: true }),
);
