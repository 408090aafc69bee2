import { parseCombined } from '../../../../shared/nginx/combined';
import type { NginxRecord } from '../../../../shared/nginx/record';
import { TrafficFold } from '../../../../shared/analytics/fold';
import { statsFromFold } from '../../../../shared/analytics/stats';
import { fixtureLines } from '../../../helpers/fixtures';

function record(line: string): NginxRecord {
  const parsed = parseCombined(line);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.record;
}

function fold(lines: string[]): TrafficFold {
  const f = new TrafficFold();
  for (const line of lines) f.add(record(line));
  return f;
}

const UA = '"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"';
const line = (addr: string, time: string, req: string, status: number, bytes: number, ref = '-', ua = UA) =>
  `${addr} - - [${time} +0000] "${req}" ${status} ${bytes} "${ref}" ${ua}`;

describe('TrafficFold', () => {
  it('counts every panel of a small log', () => {
    const f = fold([
      line('10.0.0.1', '01/Dec/2026:10:00:01', 'GET /index.html HTTP/1.1', 200, 100, 'https://ex.com/a?b'),
      line('10.0.0.1', '01/Dec/2026:10:00:02', 'GET /app.js HTTP/1.1', 200, 50),
      line('10.0.0.2', '01/Dec/2026:10:01:00', 'GET /.env HTTP/1.1', 404, 10),
      line('2001:db8::1', '01/Dec/2026:11:00:00', 'POST /api HTTP/2.0', 502, 0),
      line('10.0.0.1', '02/Dec/2026:10:00:00', 'GET /index.html HTTP/1.1', 200, 100),
    ]);
    const s = statsFromFold(f);
    expect(s.totals).toEqual({
      totalRequests: 5,
      validRequests: 5,
      failedRequests: 0,
      // 10.0.0.1 on two days, the IPv6 client; the 404 does not count as a visit
      uniqueVisitors: 3,
      bandwidth: 260,
    });
    expect(s.panels.requests.items).toEqual([
      { key: '/index.html', hits: 2, method: 'GET', protocol: 'HTTP/1.1' },
      { key: '/api', hits: 1, method: 'POST', protocol: 'HTTP/2.0' },
    ]);
    expect(s.panels.static_requests.items).toEqual([
      { key: '/app.js', hits: 1, method: 'GET', protocol: 'HTTP/1.1' },
    ]);
    expect(s.panels.not_found.items).toEqual([
      { key: '/.env', hits: 1, method: 'GET', protocol: 'HTTP/1.1' },
    ]);
    expect(s.panels.hosts.items[0]).toEqual({ key: '10.0.0.1', hits: 3 });
    expect(s.panels.status_codes.items).toEqual([
      { key: '200', hits: 3 },
      // equal hits: key descending, as Redis orders a sorted set's ties
      { key: '502', hits: 1 },
      { key: '404', hits: 1 },
    ]);
    expect(s.panels.referring_sites.items).toEqual([{ key: 'ex.com', hits: 1 }]);
    expect(s.panels.browsers.items).toEqual([{ key: 'Chrome', hits: 5 }]);
    expect(s.panels.os.items).toEqual([{ key: 'Windows', hits: 5 }]);
    expect(s.panels.visit_time.items).toEqual([
      { key: '10', hits: 4 },
      { key: '11', hits: 1 },
    ]);
    // a day and a minute up to the newest minute, one point a minute
    const series = statsFromFold(f, { minutes: 24 * 60 + 1 }).series;
    expect(series).toHaveLength(24 * 60 + 1);
    const busy = series.filter((p) => p.requests > 0);
    expect(busy.map((p) => [p.minute, p.requests, p.status4xx, p.status5xx, p.bytes])).toEqual([
      ['2026-12-01T10:00:00.000Z', 2, 0, 0, 150],
      ['2026-12-01T10:01:00.000Z', 1, 1, 0, 10],
      ['2026-12-01T11:00:00.000Z', 1, 0, 1, 0],
      ['2026-12-02T10:00:00.000Z', 1, 0, 0, 100],
    ]);
    expect(s.series).toHaveLength(60);
    expect(s.series[59]!.minute).toBe('2026-12-02T10:00:00.000Z');
  });

  it('puts minutes of other UTC offsets where they belong', () => {
    const f = new TrafficFold();
    f.add(record('10.0.0.1 - - [01/Dec/2026:12:00:00 +0200] "GET / HTTP/1.1" 200 1 "-" "-"'));
    f.add(record('10.0.0.1 - - [01/Dec/2026:10:00:30 +0000] "GET / HTTP/1.1" 200 1 "-" "-"'));
    expect(statsFromFold(f, { minutes: 1 }).series).toEqual([
      { minute: '2026-12-01T10:00:00.000Z', requests: 2, status4xx: 0, status5xx: 0, bytes: 2 },
    ]);
  });

  it('reads the lines a real nginx wrote as GoAccess does', () => {
    const s = statsFromFold(fold(fixtureLines('nginx/real-nginx-1.22.log')), { top: 100 });
    expect(s.totals.validRequests).toBe(16);
    expect(s.totals.bandwidth).toBe(845 + 3);
    const requests = s.panels.requests.items;
    // junk (a TLS handshake) is its own key; a method without a protocol is "-"; lower case is upper-cased
    expect(requests.find((i) => i.key.startsWith('\\x16'))).toMatchObject({ method: '---', protocol: '---' });
    expect(requests.find((i) => i.key === '-')).toMatchObject({ method: '---', hits: 1 });
    expect(requests.find((i) => i.key === '/lowercase')).toMatchObject({ method: 'GET' });
    expect(s.panels.not_found.items).toEqual([
      { key: '/missing/wp-login.php', hits: 1, method: 'GET', protocol: 'HTTP/1.1' },
    ]);
    expect(s.panels.hosts.items).toEqual([
      { key: '127.0.0.1', hits: 15 },
      { key: '::1', hits: 1 },
    ]);
  });

  it('keeps failures apart from the panels', () => {
    const f = new TrafficFold();
    f.fail('value is not JSON');
    f.fail('value is not JSON');
    const s = statsFromFold(f);
    expect(s.totals).toMatchObject({ totalRequests: 2, validRequests: 0, failedRequests: 2 });
    expect(f.failures.get('value is not JSON')).toBe(2);
    expect(s.panels.requests.unique).toBe(0);
  });
});
