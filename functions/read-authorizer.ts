/**
 * The HTTP API authorizer of the read routes (GET /stats, GET /dashboard). Simple responses, payload 2.0.
 *  - the stage's read token presented (shared/http/read-token.ts): allowed;
 *  - another token presented: refused here (403), the route never runs;
 *  - no token at all: let through to the route, whose first step answers 401 saying what to send (an HTTP
 *    API cannot put a message in the authorizer's own refusal) and serves nothing.
 */
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { presentedToken, readTokenSource, sameToken } from '../shared/http/read-token';
import { logger } from '../shared/log';

const expected = readTokenSource();

export async function handler(
  event: APIGatewayRequestAuthorizerEventV2,
): Promise<{ isAuthorized: boolean; context: { readToken: 'absent' | 'valid' | 'wrong' } }> {
  const presented = presentedToken(event.headers, event.cookies);
  if (presented === undefined) return { isAuthorized: true, context: { readToken: 'absent' } };
  const isAuthorized = sameToken(presented, await expected());
  if (!isAuthorized) logger.info('read-authorizer.refused', { route: event.routeKey });
  return { isAuthorized, context: { readToken: isAuthorized ? 'valid' : 'wrong' } };
}
