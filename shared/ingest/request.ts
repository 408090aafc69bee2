/**
 * Reads what the ingest function was given: an API Gateway REST (v1) or HTTP API (v2) request, or a direct
 * invocation `{"lines": [...]}`. The Content-Type decides how a body is read:
 *
 * - `text/plain` or `application/octet-stream`: the bytes of a log, one line per `\n` (a `\r` before it is
 *   dropped). Lines are kept as bytes, so a dead letter holds exactly what was sent, also when API Gateway
 *   delivers the body base64-encoded;
 * - `application/json`: `{"lines": ["..."]}`;
 * - anything else, or none, is answered 415 with what to send. (serverless offline fills in
 *   `application/json` for a request without a Content-Type, so locally such a body is read as JSON, and a
 *   log sent that way is answered 400 saying to send it as text/plain.)
 *
 * Bounds: MAX_BODY_BYTES per body and MAX_LINES per request; over either is answered 413 before anything is
 * produced. Mistakes come back as an IngestRequestError with the HTTP status and a message that says what
 * to send.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Line } from './ingest-lines';

/** Lambda's limit on a synchronous invocation's payload. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;

/**
 * Lines per request: a busy hour of a real log (20,000 lines, ~5 MB) fits twice over; 6 MB of very short
 * lines does not, and would cost a record (or dead letter) per line.
 */
export const MAX_LINES = 50000;

export interface DirectInvocation {
  lines: string[];
}

export type IngestEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2 | DirectInvocation;

export interface IngestRequest {
  lines: Line[];
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
  'send nginx access-log lines as text/plain (one per line) or as application/json {"lines": ["..."]}, ' +
  `at most ${MAX_LINES} lines and ${MAX_BODY_BYTES} bytes per request`;

function boundedLines<T extends Line>(lines: T[]): T[] {
  if (lines.length > MAX_LINES) {
    throw new IngestRequestError(
      413,
      `the request has ${lines.length} lines, over the limit of ${MAX_LINES} per request; nothing was stored. ` +
        'Split it into smaller requests.',
    );
  }
  return lines;
}

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
  return boundedLines(lines);
}

/** Splits a text into lines; a final newline does not make an extra line. */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Splits a body's bytes into lines (a final newline makes no extra line; CRLF is a newline), bytes untouched. */
export function splitByteLines(body: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  while (start < body.length) {
    let end = body.indexOf(NEWLINE, start);
    const next = end === -1 ? body.length : end + 1;
    if (end === -1) end = body.length;
    lines.push(body.subarray(start, end > start && body[end - 1] === CARRIAGE_RETURN ? end - 1 : end));
    start = next;
  }
  return lines;
}

const isBlank = (line: Buffer) => line.every((b) => b === 0x20 || b === 0x09 || b === CARRIAGE_RETURN);

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
      `request body is ${body.length} bytes, over Lambda's 6 MB payload limit; nothing was stored. ` +
        'Split it into smaller requests.',
    );
  }

  const contentType = (header(event.headers, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType === 'text/plain' || contentType === 'application/octet-stream') {
    const lines = boundedLines(splitByteLines(body));
    if (lines.every(isBlank)) throw new IngestRequestError(400, `request body has no lines; ${USAGE}`);
    return { lines, via: 'http' };
  }
  if (contentType === 'application/json') {
    const text = body.toString('utf8');
    if (!/^\s*[{[]/.test(text)) {
      throw new IngestRequestError(
        400,
        'the body is read as JSON (Content-Type application/json, which serverless offline also assumes when ' +
          `none is sent) but does not start with "{"; send log lines with Content-Type: text/plain; ${USAGE}`,
      );
    }
    return { lines: linesFromJson(text), via: 'http' };
  }
  throw new IngestRequestError(
    415,
    contentType
      ? `content type ${contentType} is not supported; ${USAGE}`
      : `Content-Type header is missing; ${USAGE}`,
  );
}
