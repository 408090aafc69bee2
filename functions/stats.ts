/** GET /stats[?top=10&minutes=60]: the traffic panels as JSON, read from the store. */
import type { APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import { httpError, json } from '../shared/http/response';
import { logger } from '../shared/log';
import { readStats, storePrefix } from '../shared/store/analytics-store';
import { endOfRedisInvocation, sharedRedis } from '../shared/store/redis';

class BadQuery extends Error {}

function whole(text: string | undefined, name: string, fallback: number, max: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new BadQuery(
      `query parameter ${name} must be a whole number from 1 to ${max}, not ${JSON.stringify(text)}`,
    );
  }
  return value;
}

export async function handler(event: Partial<APIGatewayProxyEventV2> = {}): Promise<APIGatewayProxyResult> {
  try {
    const query = event.queryStringParameters ?? {};
    const top = whole(query.top, 'top', 10, 1000);
    const minutes = whole(query.minutes, 'minutes', 60, 7 * 24 * 60);
    const stats = await readStats(sharedRedis(), storePrefix(), { top, minutes });
    return {
      ...json(200, stats),
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    };
  } catch (err) {
    if (err instanceof BadQuery) return httpError(400, err.message);
    logger.error('stats.store_unavailable', { error: err });
    return httpError(503, 'the analytics store (Redis) is unavailable; retry later');
  } finally {
    await endOfRedisInvocation();
  }
}
