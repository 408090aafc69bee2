import { parseCombined } from '../../../../shared/nginx/combined';
import { compileLogFormat, LogFormatError } from '../../../../shared/nginx/log-format';
import type { NginxRecord } from '../../../../shared/nginx/record';
import { fixtureLines, sampleLog } from '../../../helpers/fixtures';

function parsed(format: string, line: string): NginxRecord {
  const result = compileLogFormat(format).parse(line);
  if (!result.ok) throw new Error(`expected ${line} to parse: ${result.reason}`);
  return result.record;
}

function refusedFormat(format: string): LogFormatError {
  try {
    compileLogFormat(format);
  } catch (err) {
    if (err instanceof LogFormatError) return err;
    throw err;
  }
  throw new Error(`expected ${format} to be refused`);
}

const COMBINED =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

describe('compileLogFormat: combined', () => {
  it('uses the combined scanner for "combined" and for the identical format string', () => {
    expect(compileLogFormat('combined').parse).toBe(parseCombined);
    expect(compileLogFormat(COMBINED).parse).toBe(parseCombined);
    expect(compileLogFormat(`log_format main '${COMBINED}';`)).toMatchObject({ name: 'main' });
  });

  it('compiled generically, reads every line a real nginx wrote exactly as the combined scanner does', () => {
    const generic = compileLogFormat('combined', { generic: true });
    const lines = [...sampleLog(), ...fixtureLines('nginx/real-nginx-1.22.log')];
    for (const line of lines) {
      const expected = parseCombined(line);
      expect(expected.ok).toBe(true);
      expect(generic.parse(line)).toEqual(expected);
    }
  });
});

describe('compileLogFormat: custom formats', () => {
  it('reads variables in any order, ${var} beside $var, and keeps the rest in extra', () => {
    const format =
      '${status}|$request_time|$time_iso8601|$remote_addr|"$request"|$upstream_addr|${http_x_id}';
    const record = parsed(
      format,
      '404|0.012|2026-12-01T10:00:00+00:00|10.0.0.7|"GET /a?b=1 HTTP/1.1"|127.0.0.1:8080|abc\\x22d',
    );
    expect(record).toMatchObject({
      status: 404,
      time: '2026-12-01T10:00:00+00:00',
      remoteAddr: '10.0.0.7',
      method: 'GET',
      path: '/a',
      query: 'b=1',
      protocol: 'HTTP/1.1',
      bodyBytesSent: 0,
      remoteUser: null,
      extra: { request_time: '0.012', upstream_addr: '127.0.0.1:8080', http_x_id: 'abc"d' },
    });
  });

  it('splits on the right separator when a value holds it (time with a space, request with spaces)', () => {
    const record = parsed(
      '$time_local $remote_addr $request $status',
      '01/Dec/2026:10:00:00 +0100 ::1 GET / HTTP/1.1 200',
    );
    expect(record).toMatchObject({
      time: '2026-12-01T10:00:00+01:00',
      remoteAddr: '::1',
      request: 'GET / HTTP/1.1',
      status: 200,
    });
  });

  it('builds the request from $request_method, $request_uri and $server_protocol when $request is absent', () => {
    const record = parsed(
      '$msec $remote_addr $request_method $request_uri $server_protocol',
      '1764583200.123 127.0.0.1 POST /x?y=2 HTTP/2.0',
    );
    expect(record).toMatchObject({
      time: '2025-12-01T10:00:00.123Z',
      request: 'POST /x?y=2 HTTP/2.0',
      method: 'POST',
      path: '/x',
      query: 'y=2',
      protocol: 'HTTP/2.0',
    });
  });

  it('reads escape=json formats pasted as a directive, decoding JSON escapes', () => {
    const directive = `log_format edge escape=json
      '{"ts":"$time_iso8601","client":"$remote_addr","req":"$request",'
      '"status":$status,"bytes":$body_bytes_sent,"ua":"$http_user_agent","ref":"$http_referer"}';`;
    const compiled = compileLogFormat(directive);
    expect(compiled).toMatchObject({ name: 'edge', escape: 'json' });
    const line =
      '{"ts":"2026-12-01T10:00:00+00:00","client":"192.0.2.1","req":"GET /q?s=\\"x\\" HTTP/1.1","status":200,"bytes":512,"ua":"curl/8 \\u00e9","ref":""}';
    expect(JSON.parse(line)).toBeTruthy();
    const result = compiled.parse(line);
    expect(result).toMatchObject({
      ok: true,
      record: {
        request: 'GET /q?s="x" HTTP/1.1',
        status: 200,
        bodyBytesSent: 512,
        userAgent: 'curl/8 é',
        referer: null,
      },
    });
  });

  it('accepts escape= before a bare format string', () => {
    expect(compileLogFormat('escape=json {"a":"$remote_addr","t":"$msec"}')).toMatchObject({
      escape: 'json',
      name: 'custom',
    });
  });

  it('refuses a line that does not match, saying where', () => {
    const compiled = compileLogFormat('$remote_addr [$time_local] $status');
    expect(compiled.parse('10.0.0.1 [01/Dec/2026:10:00:00 +0000] abc')).toEqual({
      ok: false,
      reason: 'not log_format custom at column 39: expected $status',
    });
    expect(compiled.parse('nonsense [01/Dec/2026:10:00:00 +0000] 200')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('is not an IPv4 or IPv6 address'),
    });
  });
});

describe('compileLogFormat refuses what it cannot compile, with the position', () => {
  it.each([
    ['$remote_addr $time_local $', 26, '"$" is not followed by a variable name'],
    ['$remote_addr $time_local $-x', 26, 'found "-"'],
    ['$remote_addr ${time_local', 14, '"${" has no closing "}"'],
    ['$remote_addr ${time-local}', 14, 'is not a variable name'],
    ['$remote_addr $time_local$status', 25, 'nothing between them'],
    ['escape=xml $remote_addr $msec', 1, 'escape=xml is not one of'],
    ["log_format main '$remote_addr $msec", 17, 'has no closing'],
    ["log_format main '$remote_addr' $msec';", 32, 'expected a quoted part'],
    ["log_format main '$remote_addr ' '$time_local$status';", 45, 'nothing between them'],
    ["log_format main '$remote_addr' '$time_local';", 33, '$time_local follows $remote_addr'],
  ])('%s', (format, column, text) => {
    const err = refusedFormat(format);
    expect(err.column).toBe(column);
    expect(err.message).toContain(`column ${column}`);
    expect(err.message).toContain(text);
  });

  it('refuses formats without the client address or a time', () => {
    expect(refusedFormat('$time_local $status').message).toContain('no $remote_addr');
    expect(refusedFormat('$remote_addr $status').message).toContain('no time');
    expect(refusedFormat('   ').message).toContain('empty');
  });
});
