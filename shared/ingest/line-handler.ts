/**
 * The frame of a function that takes nginx lines (HTTP POST through API Gateway, or a direct invocation):
 * read and check the request, hand the lines on, log one line, and answer. A caller's mistake becomes a 4xx
 * over HTTP (and is thrown to a direct invoker); a destination that does not answer becomes a 503.
 */
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { httpError, json } from '../http/response';
import { logger } from '../log';
import type { IngestResult } from './ingest-lines';
import {
  type IngestEvent,
  type IngestRequest,
  IngestRequestError,
  isHttpEvent,
  readIngestRequest,
} from './request';

export interface LineHandlerOptions {
  /** Prefix of the function's log events: `<name>.done`, `<name>.bad_request`, `<name>.<unavailable>`. */
  name: string;
  /** Sends the lines on; `source` names the request for the records' headers. */
  take(request: IngestRequest, source: string): Promise<IngestResult>;
  /** Fields added to the `.done` log line. */
  logFields?: Record<string, unknown>;
  /** The log event and HTTP message when `take` fails for a reason other than the request. */
  unavailable: { event: string; message: string };
  /** Runs after every invocation, whatever happened. */
  cleanup?: () => Promise<void>;
}

/** A failure that knows its HTTP status and what to tell the client (what is stored, what to resend). */
interface AnsweredFailure extends Error {
  statusCode: number;
  answer: Record<string, unknown>;
}

function isAnsweredFailure(err: unknown): err is AnsweredFailure {
  return (
    err instanceof Error &&
    typeof (err as Partial<AnsweredFailure>).statusCode === 'number' &&
    typeof (err as Partial<AnsweredFailure>).answer === 'object'
  );
}

export type LineHandler = (
  event: IngestEvent,
  context: Context,
) => Promise<APIGatewayProxyResult | IngestResult>;

export function lineHandler(options: LineHandlerOptions): LineHandler {
  const { name } = options;
  return async (event, context) => {
    const viaHttp = isHttpEvent(event);
    const requestId = context.awsRequestId;
    try {
      const request = readIngestRequest(event);
      const result = await options.take(request, `${request.via}:${requestId}`);
      logger.info(`${name}.done`, {
        requestId,
        via: request.via,
        ...options.logFields,
        ...result,
        rejections: undefined,
      });
      return viaHttp ? json(200, result) : result;
    } catch (err) {
      if (err instanceof IngestRequestError) {
        logger.warn(`${name}.bad_request`, { requestId, status: err.statusCode, reason: err.message });
        if (viaHttp) return httpError(err.statusCode, err.message);
        throw err;
      }
      if (isAnsweredFailure(err)) {
        // Named for what happened, and saying what of the request is stored (ProduceError, PublishIncomplete).
        logger.error(`${name}.failed`, { requestId, status: err.statusCode, ...err.answer });
        if (viaHttp) return json(err.statusCode, err.answer);
        throw err;
      }
      logger.error(`${name}.${options.unavailable.event}`, { requestId, error: err });
      if (viaHttp) return httpError(503, options.unavailable.message);
      throw err;
    } finally {
      await options.cleanup?.();
    }
  };
}
