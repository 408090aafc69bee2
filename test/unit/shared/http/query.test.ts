import { QueryError, wholeNumbers } from '../../../../shared/http/query';

const SPEC = { top: { fallback: 10, max: 1000 }, minutes: { fallback: 60, max: 10080 } };

describe('wholeNumbers: the bounded query parameters of a GET route', () => {
  it('gives the fallbacks for missing or empty parameters and reads whole numbers in range', () => {
    expect(wholeNumbers(undefined, SPEC)).toEqual({ top: 10, minutes: 60 });
    expect(wholeNumbers({ top: '', minutes: '10080' }, SPEC)).toEqual({ top: 10, minutes: 10080 });
  });

  it.each([
    [{ top: 'lots' }, 'query parameter top must be a whole number from 1 to 1000, not "lots"'],
    [{ top: '1e3' }, 'query parameter top must be a whole number from 1 to 1000, not "1e3"'],
    [{ top: '0' }, 'query parameter top must be a whole number from 1 to 1000, not "0"'],
    [{ minutes: '10081' }, 'query parameter minutes must be a whole number from 1 to 10080, not "10081"'],
    [{ interval: '5' }, 'unknown query parameter "interval"; this route takes top, minutes'],
  ])('refuses %j saying what to send', (query, message) => {
    expect(() => wholeNumbers(query, SPEC)).toThrow(new QueryError(message));
  });

  it('refuses a query string over 1,024 characters before reading it', () => {
    expect(() => wholeNumbers({ top: '1' }, SPEC, `top=1&${'x'.repeat(1100)}`)).toThrow(
      'the query string is 1106 characters; send at most 1024',
    );
  });
});
