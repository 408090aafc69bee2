/**
 * SNS fanout member: several functions (snsAnalytics, snsAlerts, snsArchive) subscribe this handler to the
 * one topic, and SNS delivers every message to each of them. Each delivery is one record; the handler
 * classifies it and logs one line with the publish-to-handler latency.
 */
import { snsSubscriber } from '../shared/sns/subscriber';

export const handler = snsSubscriber('sns-subscriber', ({ record }) => ({
  remoteAddr: record.remoteAddr,
  status: record.status,
  statusClass: `${Math.floor(record.status / 100)}xx`,
  path: record.path,
}));
