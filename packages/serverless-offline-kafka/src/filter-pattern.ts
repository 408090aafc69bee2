/**
 * Lambda event filtering for Kafka event sources: a record is delivered when at least one of the event's
 * `filterPatterns` matches its value, and dropped (its offset still committed) otherwise.
 *
 * A pattern is a JSON object whose leaves are arrays of conditions; a leaf matches when any condition in
 * its array matches (OR), an object matches when every key matches (AND), and `$or` takes a list of
 * sub-patterns of which one must match. Conditions are the documented comparison operators:
 * exact values (string, number, null), `prefix`, `suffix`, `anything-but`, `numeric`, `exists` and
 * `equals-ignore-case`. When the record's field is an array, a condition matches if any element matches.
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-filtering.html
 */

export type FilterPattern = Record<string, unknown>;

export class FilterPatternError extends Error {}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const OPERATORS = ['prefix', 'suffix', 'anything-but', 'numeric', 'exists', 'equals-ignore-case'] as const;
const NUMERIC_OPS = ['<', '<=', '=', '>', '>='] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return JSON.stringify(value);
}

function validateNumeric(spec: unknown, path: string): void {
  if (!Array.isArray(spec) || spec.length === 0 || spec.length % 2 !== 0 || spec.length > 4) {
    throw new FilterPatternError(
      `${path}: numeric takes one or two comparisons, e.g. [">", 0, "<=", 5], not ${describe(spec)}`,
    );
  }
  for (let i = 0; i < spec.length; i += 2) {
    if (!NUMERIC_OPS.includes(spec[i] as (typeof NUMERIC_OPS)[number]) || typeof spec[i + 1] !== 'number') {
      throw new FilterPatternError(
        `${path}: numeric comparisons are one of ${NUMERIC_OPS.join(' ')} followed by a number, not ${describe(spec)}`,
      );
    }
  }
}

function validateCondition(condition: unknown, path: string): void {
  if (condition === null || typeof condition === 'string' || typeof condition === 'number') return;
  if (!isObject(condition) || Object.keys(condition).length !== 1) {
    throw new FilterPatternError(
      `${path}: a condition is a string, a number, null or an object with one operator (${OPERATORS.join(', ')}), not ${describe(condition)}`,
    );
  }
  const [op, arg] = Object.entries(condition)[0]!;
  switch (op) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
      if (typeof arg !== 'string') throw new FilterPatternError(`${path}: ${op} takes a string`);
      return;
    case 'exists':
      if (typeof arg !== 'boolean') throw new FilterPatternError(`${path}: exists takes true or false`);
      return;
    case 'numeric':
      validateNumeric(arg, path);
      return;
    case 'anything-but': {
      const values = Array.isArray(arg) ? arg : [arg];
      const ok = values.every((v) => typeof v === 'string' || typeof v === 'number') || isPrefixObject(arg);
      if (!ok)
        throw new FilterPatternError(
          `${path}: anything-but takes a string, a number, a list of them or {"prefix": "..."}`,
        );
      return;
    }
    default:
      throw new FilterPatternError(
        `${path}: unknown operator ${describe(op)}; use one of ${OPERATORS.join(', ')}`,
      );
  }
}

function isPrefixObject(value: unknown): value is { prefix: string } {
  return isObject(value) && Object.keys(value).length === 1 && typeof value.prefix === 'string';
}

function validateNode(node: unknown, path: string): void {
  if (!isObject(node)) {
    throw new FilterPatternError(`${path}: a pattern is a JSON object, not ${describe(node)}`);
  }
  for (const [key, value] of Object.entries(node)) {
    const here = `${path}.${key}`;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2)
        throw new FilterPatternError(`${here}: $or takes a list of at least two patterns`);
      value.forEach((sub, i) => validateNode(sub, `${here}[${i}]`));
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new FilterPatternError(`${here}: a list of conditions cannot be empty`);
      value.forEach((c, i) => validateCondition(c, `${here}[${i}]`));
    } else if (isObject(value)) {
      validateNode(value, here);
    } else {
      throw new FilterPatternError(
        `${here}: leaves must be lists of conditions, e.g. ${describe({ [key]: [value] })}`,
      );
    }
  }
}

/**
 * Reads serverless.yml's `filterPatterns` (a list of pattern objects, or CloudFormation's `{ Pattern }`
 * form with a JSON string). Throws FilterPatternError naming what is wrong.
 */
export function parseFilterPatterns(raw: unknown): FilterPattern[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new FilterPatternError('filterPatterns must be a list of patterns');
  if (raw.length > 5) throw new FilterPatternError('filterPatterns takes at most 5 patterns, as Lambda does');
  return raw.map((item, i) => {
    let pattern: unknown = item;
    if (isObject(item) && typeof item.Pattern === 'string' && Object.keys(item).length === 1) {
      try {
        pattern = JSON.parse(item.Pattern);
      } catch {
        throw new FilterPatternError(`filterPatterns[${i}].Pattern is not valid JSON`);
      }
    }
    validateNode(pattern, `filterPatterns[${i}]`);
    return pattern as FilterPattern;
  });
}

function numericMatches(spec: unknown[], value: number): boolean {
  for (let i = 0; i < spec.length; i += 2) {
    const bound = spec[i + 1] as number;
    switch (spec[i]) {
      case '<':
        if (!(value < bound)) return false;
        break;
      case '<=':
        if (!(value <= bound)) return false;
        break;
      case '=':
        if (value !== bound) return false;
        break;
      case '>':
        if (!(value > bound)) return false;
        break;
      case '>=':
        if (!(value >= bound)) return false;
        break;
    }
  }
  return true;
}

/** One condition against one scalar value that is present in the record. */
function conditionMatches(condition: unknown, value: Json): boolean {
  if (!isObject(condition)) return condition === value;
  const [op, arg] = Object.entries(condition)[0]!;
  switch (op) {
    case 'prefix':
      return typeof value === 'string' && value.startsWith(arg as string);
    case 'suffix':
      return typeof value === 'string' && value.endsWith(arg as string);
    case 'equals-ignore-case':
      return typeof value === 'string' && value.toLowerCase() === (arg as string).toLowerCase();
    case 'numeric':
      return typeof value === 'number' && numericMatches(arg as unknown[], value);
    case 'exists':
      return arg === true;
    case 'anything-but':
      if (isPrefixObject(arg)) return !(typeof value === 'string' && value.startsWith(arg.prefix));
      return !(Array.isArray(arg) ? arg : [arg]).includes(value);
    default:
      return false;
  }
}

function leafMatches(conditions: unknown[], present: boolean, value: Json | undefined): boolean {
  if (!present || value === undefined) {
    return conditions.some((c) => isObject(c) && c.exists === false);
  }
  const values: Json[] = Array.isArray(value) ? value : [value];
  return conditions.some((c) =>
    isObject(c) && 'exists' in c ? c.exists === true : values.some((v) => conditionMatches(c, v)),
  );
}

function nodeMatches(pattern: Record<string, unknown>, data: unknown): boolean {
  for (const [key, expected] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!(expected as Record<string, unknown>[]).some((sub) => nodeMatches(sub, data))) return false;
      continue;
    }
    const present = isObject(data) && Object.prototype.hasOwnProperty.call(data, key);
    const value = present ? ((data as Record<string, unknown>)[key] as Json) : undefined;
    if (Array.isArray(expected)) {
      if (!leafMatches(expected, present, value)) return false;
    } else if (!nodeMatches(expected as Record<string, unknown>, value)) {
      return false;
    }
  }
  return true;
}

/** True when there are no patterns or at least one matches the filterable view of the record. */
export function matchesAny(patterns: FilterPattern[], record: unknown): boolean {
  return patterns.length === 0 || patterns.some((p) => nodeMatches(p, record));
}

/**
 * What Lambda filters a Kafka record on: only `value` — the parsed JSON when the value is a JSON object,
 * the UTF-8 string otherwise (so `{"value": [{"anything-but": ["error"]}]}` works on plain strings).
 * A null value (tombstone) has no `value` to match.
 */
export function filterView(value: Buffer | null): Record<string, unknown> {
  if (value === null) return {};
  const text = value.toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    if (isObject(parsed)) return { value: parsed };
  } catch {
    // Not JSON: matched as a plain string.
  }
  return { value: text };
}

/** Kafka event source mappings filter on the record's value only. */
export function checkKafkaPatterns(patterns: FilterPattern[]): void {
  patterns.forEach((pattern, i) => {
    const other = Object.keys(pattern).filter((k) => k !== 'value');
    if (other.length > 0) {
      throw new FilterPatternError(
        `filterPatterns[${i}]: Kafka event sources filter on "value" only, not on ${other.map((k) => JSON.stringify(k)).join(', ')}`,
      );
    }
  });
}
