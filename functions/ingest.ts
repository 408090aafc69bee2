/**
 * Ingest: nginx access-log lines in (HTTP POST through API Gateway, or a direct invocation), structured
 * records out to the `nginx_logs` topic, unparseable lines to the dead-letter topic. Answers with counts.
 */
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { loadConfig } from '../shared/config';
import { httpError, json } from '../shared/http/response';
import { ingestLines, type IngestResult } from '../shared/ingest/ingest-lines';
import {
  type IngestEvent,
  IngestRequestError,
  isHttpEvent,
  readIngestRequest,
} from '../shared/ingest/request';
import { endOfInvocation, sharedProducer } from '../shared/kafka/producer';
import { logger } from '../shared/log';

const config = loadConfig();

export async function handler(
  event: IngestEvent,
  context: Context,
): Promise<APIGatewayProxyResult | IngestResult> {
  const viaHttp = isHttpEvent(event);
  try {
    const request = readIngestRequest(event);
    const producer = await sharedProducer(config);
    const result = await ingestLines(producer, config, request.lines, {
      source: `${request.via}:${context.awsRequestId}`,
      logFormat: 'combined',
    });
    logger.info('ingest.done', {
      requestId: context.awsRequestId,
      via: request.via,
      ...result,
      rejections: undefined,
    });
    return viaHttp ? json(200, result) : result;
  } catch (err) {
    if (err instanceof IngestRequestError) {
      logger.warn('ingest.bad_request', {
        requestId: context.awsRequestId,
        status: err.statusCode,
        reason: err.message,
      });
      if (viaHttp) return httpError(err.statusCode, err.message);
      throw err;
    }
    logger.error('ingest.kafka_unavailable', { requestId: context.awsRequestId, error: err });
    if (viaHttp)
      return httpError(503, 'Kafka is unavailable; nothing was accepted. Retry the request later.');
    throw err;
  } finally {
    await endOfInvocation();
  }
}
