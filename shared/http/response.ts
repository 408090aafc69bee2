/** API Gateway proxy responses: JSON bodies, and errors as `{"error": "..."}` with no stack trace. */
import type { APIGatewayProxyResult } from 'aws-lambda';

export function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}

export function httpError(statusCode: number, message: string): APIGatewayProxyResult {
  return json(statusCode, { error: message });
}
