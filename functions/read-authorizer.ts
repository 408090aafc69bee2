/**
 * The HTTP API authorizer of the read routes (GET /stats, GET /dashboard): allows a request that presents
 * the stage's read token (shared/http/read-token.ts), refuses every other. Simple responses, payload 2.0.
 */
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { presentedToken, readTokenSource, sameToken } from '../shared/http/read-token';
import { logger } from '../shared/log';

const expected = readTokenSource();

export async function handler(event: APIGatewayRequestAuthorizerEventV2): Promise<{ isAuthorized: boolean }> {
  const isAuthorized = sameToken(presentedToken(event.headers), await expected());
  if (!isAuthorized) logger.info('read-authorizer.refused', { route: event.routeKey });
  return { isAuthorized };
}
