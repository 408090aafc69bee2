/**
 * Fanout member, consumer group "alerts": 5xx spikes and scanners, each published once to the alerts topic
 * and logged as a structured line.
 */
import { raiseAlerts } from '../shared/alerts/raise';
import { kafkaBatchHandler } from '../shared/consumer/batch-handler';
import { endOfRedisInvocation } from '../shared/store/redis';

const work = kafkaBatchHandler('alerts', raiseAlerts);

export const handler: typeof work = async (event, context) => {
  try {
    return await work(event, context);
  } finally {
    await endOfRedisInvocation();
  }
};
