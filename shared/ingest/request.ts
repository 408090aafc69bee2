/**
 * Reads what the ingest function was given: an API Gateway REST (v1) or HTTP API (v2) request whose body is
 * text/plain (one line per line) or JSON `{"lines": [...]}`, or a direct invocation `{"lines": [...]}`.
 * Mistakes come back as an IngestRequestError with the HTTP status and a message that says what to send.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';

/** Lambda's limit on a synchronous invocation's payload. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;

export interface DirectInvocation {
  lines: string[];
}

export type IngestEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2 | DirectInvocation;

export interface IngestRequest {
  lines: string[];
  /** `http` for API Gateway, `invoke` for a direct invocation. */
  via: 'http' | 'invoke';
}

export class IngestRequestError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const USAGE =
  'send nginx access-log lines as text/plain (one per line) or as application/json {"lines": ["..."]}';

export function isHttpEvent(event: unknown): event is APIGatewayProxyEvent | APIGatewayProxyEventV2 {
  if (typeof event !== 'object' || event === null) return false;
  const e = event as Record<string, unknown>;
  return (
    'httpMethod' in e ||
    (typeof e.requestContext === 'object' && e.requestContext !== null && 'http' in e.requestContext)
  );
}

function linesFromJson(text: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new IngestRequestError(400, `body is not valid JSON (${(err as Error).message}); ${USAGE}`);
  }
  return linesField(parsed);
}

function linesField(parsed: unknown): string[] {
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as DirectInvocation).lines)) {
    throw new IngestRequestError(400, `expected an object with a "lines" array; ${USAGE}`);
  }
  const lines = (parsed as DirectInvocation).lines;
  const bad = lines.findIndex((l) => typeof l !== 'string');
  if (bad !== -1)
    throw new IngestRequestError(400, `lines[${bad}] is not a string; every line must be a string`);
  if (lines.length === 0) throw new IngestRequestError(400, `"lines" is empty; ${USAGE}`);
  return lines;
}

/** Splits a text body into lines; a final newline does not make an extra line. */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function header(
  headers: Record<string, string | undefined> | null | undefined,
  name: string,
): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

export function readIngestRequest(event: IngestEvent): IngestRequest {
  if (!isHttpEvent(event)) {
    if (typeof event !== 'object' || event === null) {
      throw new IngestRequestError(400, `invocation payload is not an object; ${USAGE}`);
    }
    return { lines: linesField(event), via: 'invoke' };
  }

  if (event.body === null || event.body === undefined || event.body.length === 0) {
    throw new IngestRequestError(400, `request body is empty; ${USAGE}`);
  }
  const body = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (body.length > MAX_BODY_BYTES) {
    throw new IngestRequestError(
      413,
      `request body is ${body.length} bytes, over Lambda's 6 MB payload limit; split it into smaller requests`,
    );
  }

  const contentType = (header(event.headers, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const text = body.toString('utf8');
  if (contentType === 'text/plain') {
    const lines = splitLines(text);
    if (lines.every((l) => l.trim().length === 0))
      throw new IngestRequestError(400, `request body has no lines; ${USAGE}`);
    return { lines, via: 'http' };
  }
  if (contentType === 'application/json') return { lines: linesFromJson(text), via: 'http' };
  throw new IngestRequestError(
    415,
    contentType
      ? `content type ${contentType} is not supported; ${USAGE}`
      : `Content-Type header is missing; ${USAGE}`,
  );
}
