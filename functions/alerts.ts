/**
 * Fanout member, consumer group "alerts": 5xx spikes and scanners, each published once to the alerts topic
 * and logged as a structured line.
 */
import { raiseAlerts } from '../shared/alerts/raise';
import { kafkaBatchHandler } from '../shared/consumer/batch-handler';
import { releasingRedis } from '../shared/store/redis';

export const handler = releasingRedis(kafkaBatchHandler('alerts', raiseAlerts));
