import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  IngestRequestError,
  MAX_BODY_BYTES,
  MAX_LINES,
  readIngestRequest,
  splitByteLines,
  splitLines,
} from '../../../../shared/ingest/request';
import { sampleEvent, sampleLog } from '../../../helpers/fixtures';

const v2 = sampleEvent<APIGatewayProxyEventV2>('ingest-http-text.json');

function withBody(body: string | undefined, contentType?: string, base64 = false): APIGatewayProxyEventV2 {
  const headers = { ...v2.headers };
  delete headers['content-type'];
  if (contentType) headers['Content-Type'] = contentType;
  return { ...v2, headers, body, isBase64Encoded: base64 };
}

function failure(event: unknown): IngestRequestError {
  try {
    readIngestRequest(event as APIGatewayProxyEventV2);
  } catch (err) {
    if (err instanceof IngestRequestError) return err;
    throw err;
  }
  throw new Error('expected the request to be refused');
}

describe('readIngestRequest accepts', () => {
  it('the sample HTTP API text/plain event', () => {
    expect(readIngestRequest(v2)).toEqual({ lines: sampleLog().map((l) => Buffer.from(l)), via: 'http' });
  });

  it('the sample HTTP API JSON event', () => {
    expect(readIngestRequest(sampleEvent('ingest-http-json.json'))).toEqual({
      lines: sampleLog(),
      via: 'http',
    });
  });

  it('a direct invocation', () => {
    expect(readIngestRequest(sampleEvent('ingest-invoke.json'))).toEqual({
      lines: sampleLog(),
      via: 'invoke',
    });
  });

  it('a REST API (v1) event with a base64 body and a charset', () => {
    const event = {
      httpMethod: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: Buffer.from('a\r\nb\n').toString('base64'),
      isBase64Encoded: true,
    } as unknown as APIGatewayProxyEvent;
    expect(readIngestRequest(event)).toEqual({ lines: [Buffer.from('a'), Buffer.from('b')], via: 'http' });
  });

  it('an application/octet-stream body, keeping bytes that are not UTF-8 as they are', () => {
    const bytes = Buffer.from([0x61, 0xff, 0xfe, 0x0a, 0x62]);
    const request = readIngestRequest(withBody(bytes.toString('base64'), 'application/octet-stream', true));
    expect(request.lines).toEqual([bytes.subarray(0, 3), bytes.subarray(4)]);
  });
});

describe('readIngestRequest refuses with a 4xx that says what to send', () => {
  it.each([
    ['an empty body', withBody(''), 400, 'request body is empty'],
    ['a missing body', withBody(undefined), 400, 'request body is empty'],
    ['a body of blank lines', withBody('\n\n', 'text/plain'), 400, 'request body has no lines'],
    ['no content type', withBody('x'), 415, 'Content-Type header is missing'],
    [
      'an unsupported content type',
      withBody('<x/>', 'application/xml'),
      415,
      'content type application/xml is not supported',
    ],
    ['malformed JSON', withBody('{"lines": [', 'application/json'), 400, 'body is not valid JSON'],
    [
      'JSON without lines',
      withBody('{"line": "x"}', 'application/json'),
      400,
      'expected an object with a "lines" array',
    ],
    [
      'JSON with a non-string line',
      withBody('{"lines": ["a", 2]}', 'application/json'),
      400,
      'lines[1] is not a string',
    ],
    ['JSON with no lines', withBody('{"lines": []}', 'application/json'), 400, '"lines" is empty'],
    ['a direct invocation without lines', { hello: 'world' }, 400, 'expected an object with a "lines" array'],
    ['a direct invocation that is not an object', 'text', 400, 'invocation payload is not an object'],
  ])('%s', (_what, event, status, message) => {
    const err = failure(event);
    expect(err.statusCode).toBe(status);
    expect(err.message).toContain(message);
  });

  it('a body over the 6 MB Lambda payload limit with 413', () => {
    const err = failure(withBody('x'.repeat(MAX_BODY_BYTES + 1), 'text/plain'));
    expect(err.statusCode).toBe(413);
    expect(err.message).toMatch(/over Lambda's 6 MB payload limit; nothing was stored. Split it/);
  });

  it('more lines than MAX_LINES with 413, also as JSON', () => {
    const many = 'x\n'.repeat(MAX_LINES + 1);
    expect(failure(withBody(many, 'text/plain'))).toMatchObject({ statusCode: 413 });
    const json = JSON.stringify({ lines: many.split('\n').slice(0, MAX_LINES + 1) });
    expect(failure(withBody(json, 'application/json')).message).toMatch(
      /over the limit of 50000 per request/,
    );
  });

  it('a log sent as JSON (what serverless offline assumes without a Content-Type) with 400 that says text/plain', () => {
    const err = failure(withBody(sampleLog().join('\n'), 'application/json'));
    expect(err.statusCode).toBe(400);
    expect(err.message).toMatch(/send log lines with Content-Type: text\/plain/);
  });
});

describe('splitLines', () => {
  it('drops only the final newline and handles CRLF', () => {
    expect(splitLines('a\r\nb\n')).toEqual(['a', 'b']);
    expect(splitLines('a\n\nb')).toEqual(['a', '', 'b']);
  });
});

describe('splitByteLines', () => {
  const text = (body: string) => splitByteLines(Buffer.from(body)).map((l) => l.toString());
  it('drops only the final newline and handles CRLF', () => {
    expect(text('a\r\nb\n')).toEqual(['a', 'b']);
    expect(text('a\n\nb')).toEqual(['a', '', 'b']);
    expect(text('\n')).toEqual(['']);
  });
});
