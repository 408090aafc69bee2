import { parseCombined } from '../../../../shared/nginx/combined';
import type { NginxRecord } from '../../../../shared/nginx/record';
import { fixtureLines, sampleLog } from '../../../helpers/fixtures';

function parsed(line: string): NginxRecord {
  const result = parseCombined(line);
  if (!result.ok) throw new Error(`expected ${line} to parse: ${result.reason}`);
  return result.record;
}

function refused(line: string): string {
  const result = parseCombined(line);
  if (result.ok) throw new Error(`expected ${line} to be refused`);
  return result.reason;
}

describe('parseCombined on the seed report lines', () => {
  it('reads every field of the first line', () => {
    const [first] = sampleLog();
    expect(parsed(first!)).toEqual({
      time: '2024-11-11T12:10:03+00:00',
      remoteAddr: '192.168.1.1',
      remoteUser: null,
      request: 'GET /index.html HTTP/1.1',
      method: 'GET',
      path: '/index.html',
      query: null,
      protocol: 'HTTP/1.1',
      status: 200,
      bodyBytesSent: 1024,
      referer: null,
      userAgent:
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/85.0.4183.121 Safari/537.36',
      raw: first,
    });
  });

  it('parses all four lines with their methods and statuses', () => {
    const records = sampleLog().map(parsed);
    expect(records.map((r) => [r.remoteAddr, r.method, r.path, r.status, r.bodyBytesSent])).toEqual([
      ['192.168.1.1', 'GET', '/index.html', 200, 1024],
      ['192.168.1.2', 'POST', '/login', 200, 234],
      ['192.168.1.3', 'GET', '/images/logo.png', 304, 0],
      ['192.168.1.4', 'GET', '/about', 200, 512],
    ]);
  });
});

describe('parseCombined on lines a real nginx wrote', () => {
  const lines = fixtureLines('nginx/real-nginx-1.22.log');
  const byPathStart = (start: string) => lines.find((l) => l.includes(`"${start}`))!;

  it('parses every line of the fixture', () => {
    for (const line of lines) expect(parseCombined(line)).toMatchObject({ ok: true });
    expect(lines.length).toBe(16);
  });

  it('keeps the referer and splits path and query', () => {
    const record = parsed(byPathStart('GET /index.html'));
    expect(record.referer).toBe('https://example.com/start?q=1');
    const search = parsed(byPathStart('GET /search'));
    expect(search).toMatchObject({ path: '/search', query: 'q=kafka&lang=en' });
  });

  it('reads an IPv6 client address', () => {
    expect(parsed(byPathStart('GET /search')).remoteAddr).toBe('::1');
  });

  it('reads $remote_user and maps "-" to null', () => {
    const login = parsed(byPathStart('POST /login'));
    expect(login.remoteUser).toBe('alice');
    expect(login.userAgent).toBeNull();
    expect(login.referer).toBeNull();
  });

  it('decodes \\x22 back to a double quote', () => {
    expect(parsed(byPathStart('GET /missing')).userAgent).toBe('sqlmap/1.7 "quoted" agent');
  });

  it('decodes escaped UTF-8 bytes in path, query and user agent', () => {
    const record = parsed(byPathStart('GET /caf'));
    expect(record.path).toBe('/café/menü');
    expect(record.query).toBe('name=Jürgen');
    expect(record.userAgent).toBe('café-bot');
  });

  it('keeps escapes that are not UTF-8 as nginx wrote them', () => {
    expect(parsed(byPathStart('GET /latin1')).userAgent).toBe('Agent\\xE9\\xFF');
  });

  it('accepts a TLS handshake sent to the plain port, with no method or path', () => {
    const line = lines.find((l) => l.includes('"\\x16\\x03'))!;
    const record = parsed(line);
    expect(record).toMatchObject({ status: 400, method: null, path: null, protocol: null });
    expect(record.request.startsWith('\\x16\\x03\\x01')).toBe(true);
  });

  it('accepts an HTTP/0.9 request line without a protocol', () => {
    expect(parsed(lines.find((l) => l.includes('"GET /"'))!)).toMatchObject({
      method: 'GET',
      path: '/',
      protocol: null,
    });
  });

  it('accepts a request line of several KB', () => {
    const line = lines.find((l) => l.length > 8000)!;
    const record = parsed(line);
    expect(record.path).toHaveLength(6001);
    expect(record.query!.length).toBeGreaterThan(1900);
  });

  it('decodes a backslash and a tab in the path', () => {
    expect(parsed(byPathStart('GET /back')).path).toBe('/back\\slash');
    expect(parsed(byPathStart('GET /tab')).path).toBe('/tab\there');
  });

  it('keeps a refused lowercase method and a 408 with zero bytes', () => {
    expect(parsed(byPathStart('get /lowercase'))).toMatchObject({ method: 'get', status: 400 });
    expect(parsed(byPathStart('GET /slow'))).toMatchObject({ status: 408, bodyBytesSent: 0 });
  });
});

describe('parseCombined on edge cases nginx also writes', () => {
  const base = (request: string, rest = '200 5 "-" "-"') =>
    `10.0.0.1 - - [01/Feb/2025:00:00:00 -0530] "${request}" ${rest}`;

  it('keeps the time zone offset in the ISO time', () => {
    expect(parsed(base('GET / HTTP/1.1')).time).toBe('2025-02-01T00:00:00-05:30');
  });

  it('accepts an empty request line (a connection closed before sending one)', () => {
    expect(parsed(base('', '400 0 "-" "-"'))).toMatchObject({ request: '', method: null, status: 400 });
  });

  it('accepts a full IPv6 address and a UNIX-socket client', () => {
    expect(
      parsed(base('GET / HTTP/2.0').replace('10.0.0.1', '2001:db8:85a3::8a2e:370:7334')).remoteAddr,
    ).toBe('2001:db8:85a3::8a2e:370:7334');
    expect(parsed(base('GET / HTTP/1.1').replace('10.0.0.1', 'unix:')).remoteAddr).toBe('unix:');
  });

  it('ignores a trailing carriage return', () => {
    expect(parsed(`${base('GET / HTTP/1.1')}\r`).raw).toBe(base('GET / HTTP/1.1'));
  });
});

describe('parseCombined refuses what nginx did not write, saying why', () => {
  it.each([
    ['', 'empty line'],
    ['hello world', 'client address "hello" is not an IPv4 or IPv6 address'],
    ['{"time":"2024-11-11T12:10:03Z","status":200}', 'expected the client address followed by a space'],
    [
      '[Mon Nov 11 12:10:03 2024] [error] [client 1.2.3.4] File does not exist',
      'is not an IPv4 or IPv6 address',
    ],
    ['1.2.3.4 - - [11/Nov/2024:12:10:03 +0000] "GET / HTTP/1.1" 200', 'after $status'],
    ['1.2.3.4 - - [31/Feb/2024:12:10:03 +0000] "GET / HTTP/1.1" 200 1 "-" "-"', 'is not dd/Mon/yyyy'],
    ['1.2.3.4 - - [11/Nov/2024:12:10:03 +0000] "GET / HTTP/1.1" OK 1 "-" "-"', 'status "OK"'],
    ['1.2.3.4 - - [11/Nov/2024:12:10:03 +0000] "GET / HTTP/1.1" 200 12k "-" "-"', 'body bytes "12k"'],
    ['1.2.3.4 - - [11/Nov/2024:12:10:03 +0000] "GET / HTTP/1.1 200 1 "-" "-"', 'expected " " after $request'],
    ['1.2.3.4 - - [11/Nov/2024:12:10:03 +0000] "GET / HTTP/1.1" 200 1 "-" "curl" 0.003', 'custom log_format'],
  ])('%j', (line, reason) => {
    expect(refused(line)).toContain(reason);
  });

  it('names the column where the line stops being nginx output', () => {
    expect(refused('1.2.3.4 x - [11/Nov/2024:12:10:03 +0000] "GET / HTTP/1.1" 200 1 "-" "-"')).toMatch(
      /^not nginx combined format at column 8:/,
    );
  });
});
