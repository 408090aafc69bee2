/**
 * Alert rules as pure code, over one-minute windows: counts per window from a batch's records, and the
 * alerts a window's counts raise.
 *
 *  - 5xx spike: at least `serverErrorMin` 5xx answers in a minute, and at least `serverErrorRatio` of it.
 *  - scanner:   one client with at least `scannerMin` 404s in a minute on paths scanners probe
 *               (wp-login.php, .env, .git/, phpMyAdmin, ...).
 */
import type { NginxRecord } from '../nginx/record';
import { isoTimeMs } from '../nginx/time-local';
import type { AlertsConfig } from './config';

const SCANNER_PATH =
  /wp-login\.php|wp-admin|xmlrpc\.php|wp-config|\/\.env|\/\.git\/|\/\.aws|\/\.ssh|\/\.htaccess|\/\.htpasswd|\/\.DS_Store|phpmyadmin|\/pma\/|\/vendor\/phpunit|\/cgi-bin\/|\/boaform|\/actuator|\/server-status|\/config\.(php|json|ya?ml)|\/shell\.php|\/setup\.php/i;

export function isScannerPath(path: string | null): boolean {
  return path !== null && SCANNER_PATH.test(path);
}

/** Counts of one window; `scans` by client address. */
export interface WindowCounts {
  requests: number;
  serverErrors: number;
  scans: Map<string, number>;
}

export type AlertRecord = Pick<NginxRecord, 'time' | 'remoteAddr' | 'status' | 'path'>;

/** Start of the record's minute, epoch seconds. */
export function minuteOf(time: string): number {
  return Math.floor(isoTimeMs(time) / 60000) * 60;
}

export function countWindows(records: Iterable<AlertRecord>): Map<number, WindowCounts> {
  const windows = new Map<number, WindowCounts>();
  for (const r of records) {
    const minute = minuteOf(r.time);
    let w = windows.get(minute);
    if (!w) {
      w = { requests: 0, serverErrors: 0, scans: new Map() };
      windows.set(minute, w);
    }
    w.requests++;
    if (r.status >= 500 && r.status < 600) w.serverErrors++;
    if (r.status === 404 && isScannerPath(r.path))
      w.scans.set(r.remoteAddr, (w.scans.get(r.remoteAddr) ?? 0) + 1);
  }
  return windows;
}

export type Alert =
  | {
      kind: 'server_error_spike';
      /** One alert per kind, window and client: the same alert raised again is the same id. */
      id: string;
      window: string;
      serverErrors: number;
      requests: number;
      ratio: number;
      threshold: { min: number; ratio: number };
    }
  | {
      kind: 'scanner';
      id: string;
      window: string;
      client: string;
      notFoundOnScannerPaths: number;
      threshold: { min: number };
    };

/** The alerts one window's counts (the whole window so far, not one batch's share) raise. */
export function evaluateWindow(minute: number, w: WindowCounts, config: AlertsConfig): Alert[] {
  const window = new Date(minute * 1000).toISOString();
  const alerts: Alert[] = [];
  const ratio = w.requests === 0 ? 0 : w.serverErrors / w.requests;
  if (w.serverErrors >= config.serverErrorMin && ratio >= config.serverErrorRatio) {
    alerts.push({
      kind: 'server_error_spike',
      id: `server_error_spike:${window}`,
      window,
      serverErrors: w.serverErrors,
      requests: w.requests,
      ratio: Math.round(ratio * 1000) / 1000,
      threshold: { min: config.serverErrorMin, ratio: config.serverErrorRatio },
    });
  }
  for (const [client, n] of w.scans) {
    if (n < config.scannerMin) continue;
    alerts.push({
      kind: 'scanner',
      id: `scanner:${window}:${client}`,
      window,
      client,
      notFoundOnScannerPaths: n,
      threshold: { min: config.scannerMin },
    });
  }
  return alerts;
}
