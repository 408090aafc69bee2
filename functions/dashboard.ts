/** GET /dashboard: the live traffic dashboard page (it polls GET /stats). */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { DASHBOARD_HTML } from '../shared/dashboard/page';

export async function handler(): Promise<APIGatewayProxyResult> {
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
