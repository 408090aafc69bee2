import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  missingReadToken,
  presentedToken,
  readTokenSource,
  sameToken,
} from '../../../../shared/http/read-token';

const TOKEN = 'a'.repeat(24) + 'b'.repeat(24);
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:read-token-AbCdEf';

describe('presentedToken', () => {
  it('takes a bearer token, else the nks_read_token cookie, else nothing', () => {
    expect(presentedToken({ Authorization: `Bearer ${TOKEN}` })).toBe(TOKEN);
    expect(presentedToken({ cookie: `theme=dark; nks_read_token=${TOKEN}; x=1` })).toBe(TOKEN);
    expect(presentedToken({ authorization: `Basic ${TOKEN}` })).toBeUndefined();
    expect(presentedToken({ cookie: 'other=1' })).toBeUndefined();
    expect(presentedToken(undefined)).toBeUndefined();
    expect(presentedToken({ authorization: `Bearer ${'x'.repeat(5000)}` })).toBeUndefined();
  });

  it("reads API Gateway payload 2.0's cookies list, where the cookie header is not", () => {
    expect(presentedToken({}, ['theme=dark', `nks_read_token=${TOKEN}`])).toBe(TOKEN);
    expect(presentedToken({ authorization: 'Bearer other' }, [`nks_read_token=${TOKEN}`])).toBe('other');
    expect(presentedToken({}, ['nks_read_tokenx=1', 'theme=dark'])).toBeUndefined();
    expect(presentedToken({}, [`nks_read_token=${'x'.repeat(5000)}`])).toBeUndefined();
  });
});

describe('missingReadToken', () => {
  const on = { HTTP_AUTH: 'on' };

  it('answers 401 saying what to send when the token is required and none is presented', () => {
    const answer = missingReadToken({ headers: { cookie: 'theme=dark' } }, 'GET /stats', on);
    expect(answer?.statusCode).toBe(401);
    expect(answer?.headers['www-authenticate']).toBe('Bearer');
    expect(JSON.parse(answer!.body)).toEqual({
      error: expect.stringMatching(
        /^GET \/stats needs the read token: .*Authorization: Bearer <token>.*nks_read_token=<token>/,
      ),
    });
  });

  it('lets the route run when a token is presented (the authorizer checked it) or none is required', () => {
    expect(
      missingReadToken({ headers: { authorization: `Bearer ${TOKEN}` } }, 'GET /stats', on),
    ).toBeUndefined();
    expect(missingReadToken({ cookies: [`nks_read_token=${TOKEN}`] }, 'GET /stats', on)).toBeUndefined();
    expect(missingReadToken({}, 'GET /stats', { HTTP_AUTH: 'off' })).toBeUndefined();
  });

  it('fails closed: a function without the HTTP_AUTH setting asks for the token', () => {
    expect(missingReadToken({}, 'GET /stats', {})?.statusCode).toBe(401);
  });
});

describe('sameToken', () => {
  it('is true only for the very token', () => {
    expect(sameToken(TOKEN, TOKEN)).toBe(true);
    expect(sameToken(TOKEN.slice(1), TOKEN)).toBe(false);
    expect(sameToken(TOKEN.replace(/b$/, 'c'), TOKEN)).toBe(false);
    expect(sameToken(undefined, TOKEN)).toBe(false);
  });
});

describe('readTokenSource', () => {
  const secrets = mockClient(SecretsManagerClient);
  beforeEach(() => secrets.reset());

  it('reads the secret once and keeps it', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: SECRET }).resolves({ SecretString: TOKEN });
    const source = readTokenSource({ READ_TOKEN_SECRET_ARN: SECRET });
    expect(await source()).toBe(TOKEN);
    expect(await source()).toBe(TOKEN);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('refuses a short token and a missing configuration, saying what to set', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'short' });
    await expect(readTokenSource({ READ_TOKEN_SECRET_ARN: SECRET })()).rejects.toThrow(
      /at least 32 characters/,
    );
    expect(() => readTokenSource({ READ_TOKEN: 'short' })).toThrow(/READ_TOKEN must hold/);
    expect(() => readTokenSource({})).toThrow(/READ_TOKEN_SECRET_ARN .* or READ_TOKEN/);
  });
});

describe('the read authorizer', () => {
  const event = (headers: Record<string, string>, cookies?: string[]) =>
    ({ routeKey: 'GET /stats', headers, cookies }) as unknown as APIGatewayRequestAuthorizerEventV2;

  it('allows the token, refuses another, lets a request with none reach the 401 that explains', async () => {
    process.env.READ_TOKEN = TOKEN;
    type Authorizer = typeof import('../../../../functions/read-authorizer');
    let handler: Authorizer['handler'];
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      handler = (require('../../../../functions/read-authorizer') as Authorizer).handler;
    });
    delete process.env.READ_TOKEN;
    const valid = { isAuthorized: true, context: { readToken: 'valid' } };
    const wrong = { isAuthorized: false, context: { readToken: 'wrong' } };
    expect(await handler!(event({ authorization: `Bearer ${TOKEN}` }))).toEqual(valid);
    expect(await handler!(event({ cookie: `nks_read_token=${TOKEN}` }))).toEqual(valid);
    expect(await handler!(event({}, ['a=b', `nks_read_token=${TOKEN}`]))).toEqual(valid);
    expect(await handler!(event({ authorization: `Bearer ${TOKEN}x` }))).toEqual(wrong);
    expect(await handler!(event({}, [`nks_read_token=${TOKEN.slice(1)}`]))).toEqual(wrong);
    expect(await handler!(event({}))).toEqual({ isAuthorized: true, context: { readToken: 'absent' } });
  });
});
