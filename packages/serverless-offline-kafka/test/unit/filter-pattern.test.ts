import {
  checkKafkaPatterns,
  FilterPatternError,
  filterView,
  matchesAny,
  parseFilterPatterns,
} from '../../src/filter-pattern';

const record = {
  value: {
    status: 503,
    path: '/api/items',
    method: 'GET',
    tags: ['a', 'b'],
    user: { name: 'Ann', id: null },
  },
};

const matches = (pattern: unknown) => matchesAny(parseFilterPatterns([pattern]), record);

describe('filter patterns (Lambda event filtering)', () => {
  it.each([
    ['exact string', { value: { method: ['GET'] } }, true],
    ['exact string, other value', { value: { method: ['POST'] } }, false],
    ['exact number', { value: { status: [503] } }, true],
    ['null', { value: { user: { id: [null] } } }, true],
    ['OR within the list', { value: { method: ['POST', 'GET'] } }, true],
    ['AND across keys', { value: { method: ['GET'], status: [200] } }, false],
    ['prefix', { value: { path: [{ prefix: '/api/' }] } }, true],
    ['suffix', { value: { path: [{ suffix: 'items' }] } }, true],
    ['suffix, no match', { value: { path: [{ suffix: '.png' }] } }, false],
    ['anything-but value', { value: { method: [{ 'anything-but': 'POST' }] } }, true],
    ['anything-but list', { value: { method: [{ 'anything-but': ['GET', 'PUT'] }] } }, false],
    ['anything-but prefix', { value: { path: [{ 'anything-but': { prefix: '/static' } }] } }, true],
    ['numeric range', { value: { status: [{ numeric: ['>=', 500, '<', 600] }] } }, true],
    ['numeric range, outside', { value: { status: [{ numeric: ['<', 500] }] } }, false],
    ['numeric equals', { value: { status: [{ numeric: ['=', 503] }] } }, true],
    ['numeric on a string never matches', { value: { method: [{ numeric: ['>', 0] }] } }, false],
    ['exists true', { value: { user: { name: [{ exists: true }] } } }, true],
    ['exists false on a missing key', { value: { referer: [{ exists: false }] } }, true],
    ['exists false on a present key', { value: { method: [{ exists: false }] } }, false],
    ['equals-ignore-case', { value: { user: { name: [{ 'equals-ignore-case': 'ann' }] } } }, true],
    ['an array field matches when any element does', { value: { tags: ['b'] } }, true],
    ['$or', { value: { $or: [{ method: ['POST'] }, { status: [503] }] } }, true],
    ['$or, none', { value: { $or: [{ method: ['POST'] }, { status: [200] }] } }, false],
    ['missing field', { value: { nothing: ['x'] } }, false],
  ])('%s', (_, pattern, expected) => {
    expect(matches(pattern)).toBe(expected);
  });

  it('delivers everything without patterns, and when any of several patterns matches', () => {
    expect(matchesAny([], record)).toBe(true);
    const patterns = parseFilterPatterns([{ value: { method: ['POST'] } }, { value: { status: [503] } }]);
    expect(matchesAny(patterns, record)).toBe(true);
  });

  it("reads CloudFormation's { Pattern: '<json>' } form", () => {
    expect(parseFilterPatterns([{ Pattern: '{"value":{"a":[1]}}' }])).toEqual([{ value: { a: [1] } }]);
  });

  it.each([
    [{ value: { a: 'x' } }, 'leaves must be lists of conditions'],
    [{ value: { a: [] } }, 'cannot be empty'],
    [{ value: { a: [{ regex: 'x' }] } }, 'unknown operator "regex"'],
    [{ value: { a: [{ numeric: ['~', 1] }] } }, 'numeric comparisons'],
    [{ value: { a: [{ exists: 'yes' }] } }, 'exists takes true or false'],
    ['text', 'a pattern is a JSON object'],
  ])('refuses %j', (pattern, message) => {
    expect(() => parseFilterPatterns([pattern])).toThrow(FilterPatternError);
    expect(() => parseFilterPatterns([pattern])).toThrow(message);
  });

  it('refuses more than 5 patterns, as Lambda does', () => {
    expect(() => parseFilterPatterns(Array.from({ length: 6 }, () => ({ a: [1] })))).toThrow('at most 5');
  });

  it('filters on the value: a JSON object as such, anything else as its string', () => {
    expect(filterView(Buffer.from('{"a":1}'))).toEqual({ value: { a: 1 } });
    expect(filterView(Buffer.from('plain'))).toEqual({ value: 'plain' });
    expect(filterView(null)).toEqual({});
    const notError = parseFilterPatterns([{ value: [{ 'anything-but': ['error'] }] }]);
    expect(matchesAny(notError, filterView(Buffer.from('error')))).toBe(false);
    expect(matchesAny(notError, filterView(Buffer.from('fine')))).toBe(true);
  });

  it('refuses patterns on anything but value for Kafka', () => {
    expect(() => checkKafkaPatterns([{ partition: [0] }])).toThrow('filter on "value" only');
  });
});
