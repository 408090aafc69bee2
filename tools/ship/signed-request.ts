/**
 * Requests to a deployed ingest endpoint (`--to https://…`) are signed with AWS Signature Version 4 for
 * API Gateway (`execute-api`), with the caller's AWS credentials from the default chain (environment,
 * ~/.aws profiles, SSO, instance or container roles): the aws stage's POST routes require IAM. Plain
 * `http://` targets (serverless offline) are sent unsigned.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { SignatureV4 } from '@smithy/signature-v4';

type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];
type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

export type Send = (
  url: URL,
  init: { method: string; headers: Record<string, string>; body: string },
) => Promise<Response>;

/** The hash SigV4 needs, from node:crypto: SHA-256, or HMAC-SHA-256 when given a key. */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

export class SigningError extends Error {}

/** The region of an API Gateway endpoint: AWS_REGION, else the one in `<id>.execute-api.<region>.amazonaws.com`. */
export function signingRegion(url: URL, env: NodeJS.ProcessEnv = process.env): string {
  const region =
    env.AWS_REGION ||
    env.AWS_DEFAULT_REGION ||
    /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname)?.[1];
  if (!region) {
    throw new SigningError(
      `cannot tell the AWS region of ${url.host} to sign requests for it: set AWS_REGION (e.g. AWS_REGION=eu-west-1)`,
    );
  }
  return region;
}

/** A sender that signs every request for `execute-api` in `region` with `credentials`. */
export function signingSend(region: string, credentials: Credentials, send: typeof fetch = fetch): Send {
  let signer: SignatureV4 | undefined;
  return async (url, init) => {
    if (!signer) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { SignatureV4 } = require('@smithy/signature-v4') as typeof import('@smithy/signature-v4');
      signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: Sha256 });
    }
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, key) => (query[key] = value));
    const signed = await signer.sign({
      method: init.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers: { ...init.headers, host: url.host },
      body: init.body,
    });
    const { host: _host, ...headers } = signed.headers;
    return send(url, { method: init.method, headers, body: init.body });
  };
}

/**
 * How the shipper sends to `url`: signed with the default credential chain for https, plain for http. A
 * missing region or missing credentials fail the first request, with what to set.
 */
export function sendFor(url: URL, env: NodeJS.ProcessEnv = process.env): Send {
  if (url.protocol !== 'https:') return (target, init) => fetch(target, init);
  let signed: Send | undefined;
  return (target, init) => {
    if (!signed) {
      type Provider = typeof import('@aws-sdk/credential-provider-node');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const sdk = require('@aws-sdk/credential-provider-node') as Provider;
      const credentials = sdk.defaultProvider();
      signed = signingSend(signingRegion(url, env), async () => {
        try {
          return await credentials();
        } catch (err) {
          throw new SigningError(
            `no AWS credentials to sign requests to ${url.host} (${(err as Error).message}): configure them ` +
              '(aws configure, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) with execute-api:Invoke on the ingest route',
          );
        }
      });
    }
    return signed(target, init);
  };
}
