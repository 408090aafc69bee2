/** GET /dashboard: the live traffic dashboard page (it polls GET /stats). */
import type { APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import { DASHBOARD_HTML } from '../shared/dashboard/page';
import { missingReadToken } from '../shared/http/read-token';

export async function handler(event: Partial<APIGatewayProxyEventV2> = {}): Promise<APIGatewayProxyResult> {
  const refused = missingReadToken(event, 'GET /dashboard');
  if (refused) return refused;
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      // Everything is inline; the page may only talk back to this API.
      // No page may frame it (clickjacking), and it sends no referrer with its calls.
      'content-security-policy':
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    },
    body: DASHBOARD_HTML,
  };
}
