/** GET /stats[?top=10&minutes=60]: the traffic panels as JSON, read from the store. */
import type { APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import { QueryError, wholeNumbers } from '../shared/http/query';
import { missingReadToken } from '../shared/http/read-token';
import { httpError, json } from '../shared/http/response';
import { logger } from '../shared/log';
import { KEEP_SECONDS, readStats, storePrefix } from '../shared/store/analytics-store';
import { endOfRedisInvocation, sharedRedis } from '../shared/store/redis';

const QUERY = {
  top: { fallback: 10, max: 1000 },
  minutes: { fallback: 60, max: KEEP_SECONDS / 60 },
};

export async function handler(event: Partial<APIGatewayProxyEventV2> = {}): Promise<APIGatewayProxyResult> {
  const refused = missingReadToken(event, 'GET /stats');
  if (refused) return refused;
  try {
    const { top, minutes } = wholeNumbers(event.queryStringParameters, QUERY, event.rawQueryString);
    const stats = await readStats(sharedRedis(), storePrefix(), { top, minutes });
    const answer = json(200, stats);
    return { ...answer, headers: { ...answer.headers, 'cache-control': 'no-store' } };
  } catch (err) {
    if (err instanceof QueryError) return httpError(400, err.message);
    logger.error('stats.store_unavailable', { error: err });
    return httpError(503, 'the analytics store (Redis) is unavailable; retry later');
  } finally {
    await endOfRedisInvocation();
  }
}
