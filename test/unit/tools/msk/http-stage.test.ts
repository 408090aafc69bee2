import {
  corsConfiguration,
  offlineCorsConfiguration,
  readHttpSettings,
  routeAuthorizer,
  throttledStage,
  withoutIdentitySource,
} from '../../../../tools/msk/http-stage';

const SECRET =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:nginx-kafka-serverless/read-token-AbCdEf';
const aws = { region: 'eu-west-1' };
const complete = { auth: 'on', throttleRate: '50', throttleBurst: '100', readTokenSecretArn: SECRET };

describe('readHttpSettings', () => {
  it('reads an AWS stage: auth on, throttled, the token secret, no CORS origin', () => {
    expect(readHttpSettings(complete, 'aws', aws)).toEqual({
      auth: true,
      corsOrigins: [],
      throttle: { rate: 50, burst: 100 },
      readTokenSecretArn: SECRET,
    });
  });

  it('refuses to turn auth off on a deployed stage', () => {
    expect(() => readHttpSettings({ ...complete, auth: 'off' }, 'aws', aws)).toThrow(/leave httpAuth=on/);
  });

  it('refuses a deployed stage without the token secret, saying how to make one', () => {
    expect(() => readHttpSettings({ ...complete, readTokenSecretArn: '' }, 'aws', aws)).toThrow(
      /readTokenSecretArn is not set[\s\S]*openssl rand -hex 32[\s\S]*--param="readTokenSecretArn=/,
    );
  });

  it('refuses a token secret in another region', () => {
    expect(() =>
      readHttpSettings(
        { ...complete, readTokenSecretArn: SECRET.replace('eu-west-1', 'us-east-1') },
        'aws',
        aws,
      ),
    ).toThrow(/region us-east-1 but the stack deploys to eu-west-1/);
  });

  it('refuses missing throttling on a deployed stage', () => {
    expect(() => readHttpSettings({ ...complete, throttleRate: '' }, 'aws', aws)).toThrow(/throttleRate/);
  });

  it('takes exact https origins only: no wildcard, no path, no plain http on AWS', () => {
    expect(
      readHttpSettings(
        { ...complete, corsOrigins: 'https://a.example.com, https://b.example.com:8443' },
        'aws',
        aws,
      ).corsOrigins,
    ).toEqual(['https://a.example.com', 'https://b.example.com:8443']);
    for (const bad of ['*', 'https://*.example.com', 'https://a.example.com/path', 'http://a.example.com']) {
      expect(() => readHttpSettings({ ...complete, corsOrigins: bad }, 'aws', aws)).toThrow(
        /corsOrigins entry/,
      );
    }
  });

  it('locally: off by default, and needs neither throttling nor a secret', () => {
    expect(readHttpSettings({}, 'local', undefined)).toEqual({
      auth: false,
      corsOrigins: [],
      throttle: undefined,
      readTokenSecretArn: undefined,
    });
    expect(readHttpSettings({ auth: 'on' }, 'local', undefined).auth).toBe(true);
  });
});

describe('routes, CORS and throttling', () => {
  it('writes need IAM on AWS and nothing locally (serverless offline cannot check SigV4), reads the read token', () => {
    expect(routeAuthorizer('POST', true)).toEqual({ type: 'aws_iam' });
    expect(routeAuthorizer('ANY', true)).toEqual({ type: 'aws_iam' });
    expect(routeAuthorizer('GET', true)).toEqual({ name: 'readToken' });
    expect(routeAuthorizer('POST', false)).toBeUndefined();
    expect(routeAuthorizer('GET', false)).toEqual({ name: 'readToken' });
  });

  it('CORS is the allow-list without credentials, and nothing when the list is empty', () => {
    expect(corsConfiguration([])).toBeUndefined();
    expect(corsConfiguration(['https://a.example.com'])).toMatchObject({
      allowedOrigins: ['https://a.example.com'],
      allowCredentials: false,
    });
  });

  it('under serverless offline CORS is always set, so an empty list allows no origin instead of every one', () => {
    expect(offlineCorsConfiguration([])).toMatchObject({ allowedOrigins: [], allowCredentials: false });
    expect(offlineCorsConfiguration(['http://localhost:8080'])).toMatchObject({
      allowedOrigins: ['http://localhost:8080'],
      allowCredentials: false,
    });
  });

  it('throttles the stage and drops an identity source the framework left empty', () => {
    const stage: Record<string, unknown> = {
      Type: 'AWS::ApiGatewayV2::Stage',
      Properties: { StageName: '$default' },
    };
    throttledStage(stage, { rate: 5, burst: 10 });
    expect(stage.Properties).toEqual({
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
    });
    const authorizer = { Properties: { IdentitySource: [undefined] } } as unknown as Record<string, unknown>;
    withoutIdentitySource(authorizer);
    expect(authorizer.Properties).toEqual({});
  });
});
