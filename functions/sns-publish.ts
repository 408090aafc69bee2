/**
 * SNS publish: the same input as the ingest function (HTTP POST or a direct invocation, nginx lines),
 * the same parsing, but each record becomes one SNS message on the topic and each unparseable line one
 * message on the dead-letter topic. For comparing SNS fanout with Kafka consumer groups.
 */
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { httpError, json } from '../shared/http/response';
import type { IngestResult } from '../shared/ingest/ingest-lines';
import {
  type IngestEvent,
  IngestRequestError,
  isHttpEvent,
  readIngestRequest,
} from '../shared/ingest/request';
import { logger } from '../shared/log';
import { sharedSnsClient } from '../shared/sns/client';
import { loadSnsConfig } from '../shared/sns/config';
import { publishLines } from '../shared/sns/publish';

const config = loadSnsConfig();

export async function handler(
  event: IngestEvent,
  context: Context,
): Promise<APIGatewayProxyResult | IngestResult> {
  const viaHttp = isHttpEvent(event);
  try {
    const request = readIngestRequest(event);
    const result = await publishLines(sharedSnsClient(config), config, request.lines, {
      source: `${request.via}:${context.awsRequestId}`,
      logFormat: 'combined',
    });
    logger.info('sns-publish.done', {
      requestId: context.awsRequestId,
      via: request.via,
      topicArn: config.topicArn,
      ...result,
      rejections: undefined,
    });
    return viaHttp ? json(200, result) : result;
  } catch (err) {
    if (err instanceof IngestRequestError) {
      logger.warn('sns-publish.bad_request', {
        requestId: context.awsRequestId,
        status: err.statusCode,
        reason: err.message,
      });
      if (viaHttp) return httpError(err.statusCode, err.message);
      throw err;
    }
    logger.error('sns-publish.sns_unavailable', { requestId: context.awsRequestId, error: err });
    if (viaHttp) {
      return httpError(
        503,
        'SNS did not accept every message; some may have been published. Retry the request later.',
      );
    }
    throw err;
  }
}
