/**
 * Query parameters of a GET route, bounded: only the named parameters, each a whole number within its
 * range. Anything else is a QueryError whose message says what to send (answered with 400).
 */
export class QueryError extends Error {}

export interface WholeParameter {
  fallback: number;
  max: number;
}

/** Query strings longer than this are refused before they are read. */
export const MAX_QUERY_LENGTH = 1024;

export function wholeNumbers<K extends string>(
  query: Record<string, string | undefined> | null | undefined,
  spec: Record<K, WholeParameter>,
  rawQueryString = '',
): Record<K, number> {
  if (rawQueryString.length > MAX_QUERY_LENGTH) {
    throw new QueryError(
      `the query string is ${rawQueryString.length} characters; send at most ${MAX_QUERY_LENGTH}`,
    );
  }
  const names = Object.keys(spec) as K[];
  const given = query ?? {};
  const unknown = Object.keys(given).filter((name) => !(names as string[]).includes(name));
  if (unknown.length > 0) {
    throw new QueryError(
      `unknown query parameter ${JSON.stringify(unknown[0]!.slice(0, 40))}; this route takes ${names.join(', ')}`,
    );
  }
  const out = {} as Record<K, number>;
  for (const name of names) {
    const text = given[name];
    const { fallback, max } = spec[name];
    if (text === undefined || text === '') {
      out[name] = fallback;
      continue;
    }
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isInteger(value) || value < 1 || value > max) {
      throw new QueryError(
        `query parameter ${name} must be a whole number from 1 to ${max}, not ${JSON.stringify(text.slice(0, 40))}`,
      );
    }
    out[name] = value;
  }
  return out;
}
