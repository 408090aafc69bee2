/**
 * Ingest: nginx access-log lines in (HTTP POST through API Gateway, or a direct invocation), structured
 * records out to the `nginx_logs` topic, unparseable lines to the dead-letter topic, all in one transaction.
 * Answers 200 with counts once every record is stored; any failure is answered with what is stored (none,
 * or unknown when Kafka vanished during the commit). See docs/producing.md.
 */
import { loadConfig } from '../shared/config';
import { ingestLines } from '../shared/ingest/ingest-lines';
import { lineHandler } from '../shared/ingest/line-handler';
import { sharedAtomicProducer } from '../shared/kafka/atomic-producer';
import { endOfInvocation } from '../shared/kafka/producer';

const config = loadConfig();

export const handler = lineHandler({
  name: 'ingest',
  take: (request, source) =>
    ingestLines(sharedAtomicProducer(config), config, request.lines, { source, logFormat: 'combined' }),
  // Kafka's own failures are ProduceErrors, answered with what is stored; this is anything else, which
  // happens before a record is sent.
  unavailable: {
    event: 'failed',
    message: 'The ingest failed before sending anything; nothing was stored. Retry the request later.',
  },
  cleanup: endOfInvocation,
});
