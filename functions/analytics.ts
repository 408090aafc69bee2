/** Fanout member, consumer group "analytics": every record into the traffic panels in Redis, once. */
import { recordTraffic } from '../shared/analytics/record-batch';
import { kafkaBatchHandler } from '../shared/consumer/batch-handler';
import { releasingRedis } from '../shared/store/redis';

export const handler = releasingRedis(kafkaBatchHandler('analytics', recordTraffic));
