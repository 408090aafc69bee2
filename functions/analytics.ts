/** Fanout member, consumer group "analytics": every record into the traffic panels in Redis, once. */
import { recordTraffic } from '../shared/analytics/record-batch';
import { kafkaBatchHandler } from '../shared/consumer/batch-handler';
import { endOfRedisInvocation } from '../shared/store/redis';

const work = kafkaBatchHandler('analytics', recordTraffic);

export const handler: typeof work = async (event, context) => {
  try {
    return await work(event, context);
  } finally {
    await endOfRedisInvocation();
  }
};
