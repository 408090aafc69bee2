/**
 * Ingest: nginx access-log lines in (HTTP POST through API Gateway, or a direct invocation), structured
 * records out to the `nginx_logs` topic, unparseable lines to the dead-letter topic. Answers with counts.
 */
import { loadConfig } from '../shared/config';
import { ingestLines } from '../shared/ingest/ingest-lines';
import { lineHandler } from '../shared/ingest/line-handler';
import { endOfInvocation, sharedProducer } from '../shared/kafka/producer';

const config = loadConfig();

export const handler = lineHandler({
  name: 'ingest',
  take: async (request, source) =>
    ingestLines(await sharedProducer(config), config, request.lines, { source, logFormat: 'combined' }),
  unavailable: {
    event: 'kafka_unavailable',
    message: 'Kafka is unavailable; nothing was accepted. Retry the request later.',
  },
  cleanup: endOfInvocation,
});
