/**
 * SNS publish: the same input as the ingest function (HTTP POST or a direct invocation, nginx lines),
 * the same parsing, but each record becomes one SNS message on the topic and each unparseable line one
 * message on the dead-letter topic. For comparing SNS fanout with Kafka consumer groups.
 */
import { lineHandler } from '../shared/ingest/line-handler';
import { sharedSnsClient } from '../shared/sns/client';
import { loadSnsConfig } from '../shared/sns/config';
import { publishLines } from '../shared/sns/publish';

const config = loadSnsConfig();

export const handler = lineHandler({
  name: 'sns-publish',
  take: (request, source) =>
    publishLines(sharedSnsClient(config), config, request.lines, { source, logFormat: 'combined' }),
  logFields: { topicArn: config.topicArn },
  unavailable: {
    event: 'sns_unavailable',
    message: 'SNS did not accept every message; some may have been published. Retry the request later.',
  },
});
