/** API Gateway proxy responses: JSON bodies, and errors as `{"error": "..."}` with no stack trace. */
import type { APIGatewayProxyResult } from 'aws-lambda';

export function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    // nosniff: a browser never reads log text inside the JSON as a page or a script.
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff' },
    body: JSON.stringify(body),
  };
}

export function httpError(statusCode: number, message: string): APIGatewayProxyResult {
  return json(statusCode, { error: message });
}
