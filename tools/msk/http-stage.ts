/**
 * Who can call the HTTP API, read from serverless.yml's `custom.http` (filled from the stage's params):
 *  - writes (POST: /ingest, /sns/publish) need AWS IAM (SigV4-signed requests, allowed by the caller's IAM
 *    policy `execute-api:Invoke`);
 *  - reads (GET: /stats, /dashboard) need the read token, checked by the `readToken` Lambda authorizer
 *    (functions/read-authorizer.ts) against a Secrets Manager secret;
 *  - the stage is throttled (rate and burst);
 *  - CORS allows exactly the origins given (none by default) and never sends credentials.
 * On AWS stages all of it is on and cannot be turned off. Locally it is off unless HTTP_AUTH=on, which attaches
 * the read authorizer under serverless offline (which runs the same Lambda function); serverless offline
 * cannot check SigV4 (and 13.9 stops at startup on an `aws_iam` httpApi authorizer), so locally writes get no
 * authorizer and stay open. Pure functions; tools/msk/serverless-plugin.ts applies them.
 */
import { MskStageError, type CfValue } from './aws-stage';

export const READ_AUTHORIZER = 'readToken';
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', '*', 'ANY']);
const ORIGIN = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

export interface HttpStageSettings {
  auth: boolean;
  corsOrigins: string[];
  /** Requests per second the stage accepts on average, and in a burst (AWS stages). */
  throttle?: { rate: number; burst: number };
  readTokenSecretArn?: string;
}

const list = (value: unknown): string[] =>
  String(value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/** Reads and checks `custom.http`; on an AWS stage auth, throttling and the token secret are required. */
export function readHttpSettings(
  raw: Record<string, unknown>,
  stage: string,
  aws: { region: string } | undefined,
): HttpStageSettings {
  const problems: string[] = [];
  const auth = String(raw.auth ?? 'off').trim();
  if (auth !== 'on' && auth !== 'off') problems.push(`httpAuth must be on or off, not "${auth}"`);
  if (aws && auth !== 'on') {
    problems.push(
      `httpAuth is "${auth}", but every route of a deployed stage must require authentication: leave httpAuth=on`,
    );
  }
  const corsOrigins = list(raw.corsOrigins);
  for (const origin of corsOrigins) {
    if (!ORIGIN.test(origin) || (aws && !origin.startsWith('https://'))) {
      problems.push(
        `corsOrigins entry "${origin}" is not an exact ${aws ? 'https://' : 'http(s)://'}host[:port] origin ` +
          '(no wildcards, no paths): pass --param="corsOrigins=https://app.example.com,https://other.example.com"',
      );
    }
  }
  let throttle: HttpStageSettings['throttle'];
  let readTokenSecretArn: string | undefined;
  if (aws) {
    const rate = Number(raw.throttleRate);
    const burst = Number(raw.throttleBurst);
    if (!(rate > 0) || !Number.isInteger(burst) || burst < 1) {
      problems.push(
        `throttleRate and throttleBurst must be above 0 (requests per second, and a whole burst size), not ` +
          `"${String(raw.throttleRate)}" and "${String(raw.throttleBurst)}": pass --param="throttleRate=50" --param="throttleBurst=100"`,
      );
    }
    throttle = { rate, burst };
    readTokenSecretArn = String(raw.readTokenSecretArn ?? '').trim() || undefined;
    if (!readTokenSecretArn || !SECRET_ARN.test(readTokenSecretArn)) {
      problems.push(
        `readTokenSecretArn ${readTokenSecretArn ? `"${readTokenSecretArn}" is not a Secrets Manager secret ARN` : 'is not set'}: ` +
          'GET /stats and /dashboard check a token kept in Secrets Manager. Create one with ' +
          '`aws secretsmanager create-secret --name nginx-kafka-serverless/read-token --secret-string "$(openssl rand -hex 32)"` ' +
          'and pass --param="readTokenSecretArn=<its ARN>" (or set READ_TOKEN_SECRET_ARN)',
      );
    } else if (readTokenSecretArn.split(':')[3] !== aws.region) {
      problems.push(
        `readTokenSecretArn is in region ${readTokenSecretArn.split(':')[3]} but the stack deploys to ${aws.region}: ` +
          `name a secret in ${aws.region}`,
      );
    }
  }
  if (problems.length > 0) {
    throw new MskStageError(`stage ${stage}'s HTTP API:\n  - ${problems.join('\n  - ')}`);
  }
  return { auth: auth === 'on', corsOrigins, throttle, readTokenSecretArn };
}

export interface HttpApiEvent {
  method?: string;
  path?: string;
  authorizer?: unknown;
}

/** The authorizer a route gets: IAM for writes (on AWS; none locally), the read token for reads. */
export function routeAuthorizer(method: string, onAws: boolean): Record<string, unknown> | undefined {
  if (!WRITE_METHODS.has(method.toUpperCase())) return { name: READ_AUTHORIZER };
  return onAws ? { type: 'aws_iam' } : undefined;
}

/** provider.httpApi.cors for the allow-list: exact origins, no credentials; undefined when the list is empty. */
export function corsConfiguration(origins: string[]): Record<string, unknown> | undefined {
  if (origins.length === 0) return undefined;
  return {
    allowedOrigins: origins,
    allowedHeaders: [
      'Authorization',
      'Content-Type',
      'X-Amz-Date',
      'X-Amz-Security-Token',
      'X-Amz-Content-Sha256',
    ],
    allowedMethods: ['GET', 'POST', 'OPTIONS'],
    allowCredentials: false,
    maxAge: 600,
  };
}

/**
 * provider.httpApi.cors under serverless offline: always set, with exactly the listed origins (possibly none).
 * Without a setting serverless offline reflects every Origin with credentials; with one it answers only the
 * listed origins (local/offline-patches/ makes that hold for every method, not just preflights), as API Gateway does.
 */
export function offlineCorsConfiguration(origins: string[]): Record<string, unknown> {
  return { ...corsConfiguration(['http://localhost']), allowedOrigins: origins };
}

/** The stage's default route settings: throttling for every route. */
export function throttledStage(
  stage: Record<string, unknown> | undefined,
  throttle: { rate: number; burst: number },
): void {
  if (!stage) throw new MskStageError('the template has no HttpApiStage to throttle');
  const properties = (stage.Properties ??= {}) as Record<string, unknown>;
  properties.DefaultRouteSettings = {
    ...((properties.DefaultRouteSettings as Record<string, unknown>) ?? {}),
    ThrottlingRateLimit: throttle.rate,
    ThrottlingBurstLimit: throttle.burst,
  };
}

/** Without caching the read authorizer needs no identity source (it reads the header or the cookie itself). */
export function withoutIdentitySource(authorizer: Record<string, unknown> | undefined): void {
  const properties = authorizer?.Properties as { IdentitySource?: CfValue[] } | undefined;
  if (properties?.IdentitySource?.every((s) => s === undefined || s === null))
    delete properties.IdentitySource;
}
