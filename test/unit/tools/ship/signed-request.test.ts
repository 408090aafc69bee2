/**
 * The shipper's requests to a deployed endpoint carry a valid AWS Signature Version 4 for execute-api: a real
 * HTTP server receives them and recomputes the signature from what arrived, as API Gateway does, following
 * the algorithm as AWS documents it (canonical request, string to sign, derived signing key).
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendFor, signingRegion, signingSend } from '../../../../tools/ship/signed-request';

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-example',
};
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** What API Gateway would compute for the request as received; undefined when it is not signed at all. */
function expectedSignature(
  request: IncomingMessage,
  body: string,
  secret: string,
): { given: string; computed: string } | undefined {
  const auth = /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
    String(request.headers.authorization ?? ''),
  );
  if (!auth) return undefined;
  const [, credential, signedHeaders, given] = auth as unknown as [string, string, string, string];
  const [, date, region, service, terminator] = credential.split('/');
  const url = new URL(request.url!, 'http://x');
  const canonicalHeaders = signedHeaders
    .split(';')
    .map(
      (name) =>
        `${name}:${String(request.headers[name] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonicalQuery = [...url.searchParams.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  const canonicalRequest = [
    request.method,
    url.pathname,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    sha256(body),
  ].join('\n');
  const amzDate = String(request.headers['x-amz-date']);
  const scope = `${date}/${region}/${service}/${terminator}`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region!), service!), terminator!);
  return { given, computed: hmac(key, stringToSign).toString('hex') };
}

let server: Server;
let base: URL;
const received: Array<{ request: IncomingMessage; body: string }> = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ request, body });
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"accepted":1,"rejected":0,"blank":0}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`);
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => (received.length = 0));

describe('SigV4 signing of shipped requests', () => {
  it('signs for execute-api in the region, and the signature verifies against what arrived', async () => {
    const send = signingSend('eu-west-1', CREDENTIALS);
    const body = '127.0.0.1 - - [02/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"\n';
    const response = await send(new URL(`${base.href}?x=1`), {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body,
    });
    expect(response.status).toBe(200);
    const [{ request, body: arrived }] = received as [{ request: IncomingMessage; body: string }];
    expect(arrived).toBe(body);
    expect(String(request.headers.authorization)).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=/,
    );
    expect(request.headers['x-amz-security-token']).toBe(CREDENTIALS.sessionToken);
    const check = expectedSignature(request, arrived, CREDENTIALS.secretAccessKey)!;
    expect(check.given).toBe(check.computed);
    // the check can fail: another body or another key gives another signature
    expect(expectedSignature(request, arrived + 'x', CREDENTIALS.secretAccessKey)!.computed).not.toBe(
      check.given,
    );
    expect(expectedSignature(request, arrived, 'other-secret')!.computed).not.toBe(check.given);
  });

  it('sends plain http (serverless offline) unsigned', async () => {
    await sendFor(base, {})(base, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x\n' });
    expect(received[0]!.request.headers.authorization).toBeUndefined();
  });

  it("takes the region from AWS_REGION or the endpoint's host, and says what to set otherwise", () => {
    const api = new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/ingest');
    expect(signingRegion(api, {})).toBe('eu-west-1');
    expect(signingRegion(new URL('https://logs.example.com/ingest'), { AWS_REGION: 'us-east-2' })).toBe(
      'us-east-2',
    );
    expect(() => signingRegion(new URL('https://logs.example.com/ingest'), {})).toThrow(/set AWS_REGION/);
  });
});
