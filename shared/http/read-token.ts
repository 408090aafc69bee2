/**
 * Who may read the traffic panels (`GET /stats`, `GET /dashboard`): callers that present the stage's read
 * token, as `Authorization: Bearer <token>` (curl, scripts) or as the cookie `nks_read_token` (a browser, whose
 * page loads and `fetch` calls cannot add a header). On AWS the token lives in a Secrets Manager secret
 * (READ_TOKEN_SECRET_ARN) and is read at most every five minutes per container, so a rotated token is honoured
 * within five minutes; locally READ_TOKEN gives it directly. No token is ever in the repository.
 */
import { timingSafeEqual } from 'node:crypto';

export const READ_TOKEN_COOKIE = 'nks_read_token';
/** Tokens shorter than this are refused as configuration: they could be guessed. */
export const MIN_TOKEN_LENGTH = 32;
/** Longest header or cookie value looked at; longer ones are refused unread. */
const MAX_CREDENTIAL_LENGTH = 4096;
const SECRET_TTL_MS = 5 * 60 * 1000;

export class ReadTokenConfigError extends Error {}

/**
 * The token a request presents, from `Authorization: Bearer` first, else the cookie; undefined when none.
 * API Gateway's payload 2.0 moves cookies out of the headers into `cookies` (one `name=value` each);
 * serverless offline leaves them in the `cookie` header: both are read.
 */
export function presentedToken(
  headers: Record<string, string | undefined> | undefined,
  cookies: readonly string[] = [],
): string | undefined {
  const header = (name: string) => {
    const value = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];
    return value && value.length <= MAX_CREDENTIAL_LENGTH ? value : undefined;
  };
  const bearer = /^Bearer ([^\s]+)$/i.exec(header('authorization') ?? '')?.[1];
  if (bearer) return bearer;
  const parts = [
    ...cookies.filter((c) => c.length <= MAX_CREDENTIAL_LENGTH),
    ...(header('cookie') ?? '').split(';'),
  ];
  for (const part of parts) {
    const [name, ...value] = part.trim().split('=');
    if (name === READ_TOKEN_COOKIE && value.length > 0) return value.join('=');
  }
  return undefined;
}

/**
 * What a read route needs to be sent, said to a caller that sent no token at all (the authorizer lets such a
 * request through so that this can be said; a wrong token is refused by the authorizer itself).
 */
export const READ_TOKEN_HINT =
  `send the read token as the header "Authorization: Bearer <token>" or as the cookie ` +
  `"${READ_TOKEN_COOKIE}=<token>" (a browser: set the cookie for this address, then reload)`;

/** Constant-time comparison, so the answer time says nothing about how much of a guess was right. */
export function sameToken(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function checked(token: string | undefined, where: string): string {
  const value = (token ?? '').trim();
  if (value.length < MIN_TOKEN_LENGTH) {
    throw new ReadTokenConfigError(
      `${where} must hold a read token of at least ${MIN_TOKEN_LENGTH} characters ` +
        '(make one with `openssl rand -hex 32`)',
    );
  }
  return value;
}

export type TokenSource = () => Promise<string>;

/**
 * Where the expected token comes from: READ_TOKEN_SECRET_ARN (Secrets Manager, AWS) or READ_TOKEN (local).
 * Throws when neither is set: an authorizer without a token refuses everything rather than allowing it.
 */
export function readTokenSource(env: NodeJS.ProcessEnv = process.env): TokenSource {
  const secretArn = env.READ_TOKEN_SECRET_ARN;
  if (secretArn) {
    let cached: { token: string; until: number } | undefined;
    return async () => {
      if (cached && cached.until > Date.now()) return cached.token;
      type SecretsManager = typeof import('@aws-sdk/client-secrets-manager');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const sdk = require('@aws-sdk/client-secrets-manager') as SecretsManager;
      const answer = await new sdk.SecretsManagerClient({}).send(
        new sdk.GetSecretValueCommand({ SecretId: secretArn }),
      );
      cached = {
        token: checked(answer.SecretString, `the secret ${secretArn}`),
        until: Date.now() + SECRET_TTL_MS,
      };
      return cached.token;
    };
  }
  const local = env.READ_TOKEN;
  if (local !== undefined) {
    const token = checked(local, 'READ_TOKEN');
    return () => Promise.resolve(token);
  }
  throw new ReadTokenConfigError(
    'the read authorizer has no token: set READ_TOKEN_SECRET_ARN (a Secrets Manager secret, on AWS) or READ_TOKEN (locally)',
  );
}

/**
 * Whether the read routes want the token: unless HTTP_AUTH=off (the local default). It is always on for AWS
 * stages; a function that somehow lost the setting fails closed and asks for the token.
 */
export function readTokenRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.HTTP_AUTH !== 'off';
}

export interface ReadRequest {
  headers?: Record<string, string | undefined>;
  cookies?: string[];
}

/**
 * The read routes' first check: where the token is required and the request presents none, the answer (401,
 * saying what to send); otherwise undefined. A presented token was already checked by the authorizer, which
 * refuses a wrong one before the route runs; this check never serves data, it only explains the refusal.
 */
export function missingReadToken(
  event: ReadRequest,
  route: string,
  env: NodeJS.ProcessEnv = process.env,
): { statusCode: number; headers: Record<string, string>; body: string } | undefined {
  if (!readTokenRequired(env) || presentedToken(event.headers, event.cookies) !== undefined) return undefined;
  return {
    statusCode: 401,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-content-type-options': 'nosniff',
      'www-authenticate': 'Bearer',
      'cache-control': 'no-store',
    },
    body: JSON.stringify({ error: `${route} needs the read token: ${READ_TOKEN_HINT}` }),
  };
}
