import { alertsConfig } from '../../../../shared/alerts/config';
import {
  countWindows,
  evaluateWindow,
  isScannerPath,
  minuteOf,
  type AlertRecord,
} from '../../../../shared/alerts/detect';

const config = alertsConfig({ ALERT_5XX_MIN: '5', ALERT_5XX_RATIO: '0.5', ALERT_SCAN_MIN: '3' });
const at = (second: number) => `2026-12-01T10:00:${String(second).padStart(2, '0')}+00:00`;
const req = (status: number, path = '/', addr = '10.0.0.1', second = 0): AlertRecord => ({
  time: at(second),
  remoteAddr: addr,
  status,
  path,
});
const MINUTE = Date.parse('2026-12-01T10:00:00Z') / 1000;

describe('alert rules', () => {
  it('knows the paths scanners probe', () => {
    for (const p of ['/wp-login.php', '/.env', '/app/.git/config', '/phpMyAdmin/', '/xmlrpc.php']) {
      expect(isScannerPath(p)).toBe(true);
    }
    for (const p of ['/', '/index.html', '/environment', null]) expect(isScannerPath(p)).toBe(false);
  });

  it('raises a 5xx spike only above both the count and the share', () => {
    const few = countWindows([...Array(4)].map(() => req(502)));
    expect(evaluateWindow(MINUTE, few.get(MINUTE)!, config)).toEqual([]);
    const diluted = countWindows([
      ...[...Array(5)].map(() => req(502)),
      ...[...Array(6)].map(() => req(200)),
    ]);
    expect(evaluateWindow(MINUTE, diluted.get(MINUTE)!, config)).toEqual([]);
    const spike = countWindows([...[...Array(6)].map(() => req(503)), req(200)]);
    expect(evaluateWindow(MINUTE, spike.get(MINUTE)!, config)).toEqual([
      {
        kind: 'server_error_spike',
        id: 'server_error_spike:2026-12-01T10:00:00.000Z',
        window: '2026-12-01T10:00:00.000Z',
        serverErrors: 6,
        requests: 7,
        ratio: 0.857,
        threshold: { min: 5, ratio: 0.5 },
      },
    ]);
  });

  it('raises a scanner per client that hits scanner paths with 404s', () => {
    const windows = countWindows([
      req(404, '/wp-login.php', '203.0.113.9', 1),
      req(404, '/.env', '203.0.113.9', 2),
      req(404, '/.git/HEAD', '203.0.113.9', 3),
      req(404, '/missing', '10.0.0.2'),
      req(404, '/wp-login.php', '10.0.0.2'),
      req(200, '/wp-login.php', '10.0.0.3'),
    ]);
    expect(evaluateWindow(MINUTE, windows.get(MINUTE)!, config)).toEqual([
      expect.objectContaining({ kind: 'scanner', client: '203.0.113.9', notFoundOnScannerPaths: 3 }),
    ]);
  });

  it('counts per minute', () => {
    const windows = countWindows([req(200), { ...req(500), time: '2026-12-01T10:01:00+00:00' }]);
    expect([...windows.keys()]).toEqual([MINUTE, MINUTE + 60]);
  });

  it('refuses thresholds that are not numbers', () => {
    expect(() => alertsConfig({ ALERT_5XX_RATIO: '2' })).toThrow(
      /ALERT_5XX_RATIO must be a number above 0 and at most 1/,
    );
    expect(() => alertsConfig({ ALERT_SCAN_MIN: 'many' })).toThrow(/ALERT_SCAN_MIN/);
  });
});

describe('minuteOf', () => {
  it('gives each time its own minute, whatever time came before', () => {
    const times = [
      '2026-12-03T10:00:59+00:00',
      '2026-12-03T10:00:59+00:00',
      '2026-12-03T10:01:00+00:00',
      '2026-12-03T10:00:59+00:00',
      'not a time',
      '2026-12-03T12:01:30+02:00',
    ];
    const minute = Date.UTC(2026, 11, 3, 10, 0) / 1000;
    expect(times.map(minuteOf)).toEqual([minute, minute, minute + 60, minute, Number.NaN, minute + 60]);
  });
});
