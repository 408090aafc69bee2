/** Alert thresholds and the alerts topic, from the environment (documented in the README). */
export interface AlertsConfig {
  /** Topic each alert is published to. */
  topic: string;
  /** A minute with at least this many 5xx answers... */
  serverErrorMin: number;
  /** ...that are at least this share of the minute's requests is a 5xx spike. */
  serverErrorRatio: number;
  /** One client with at least this many 404s on scanner paths in a minute is a scanner. */
  scannerMin: number;
}

export const ALERT_DEFAULTS = {
  topic: 'nginx_alerts',
  serverErrorMin: 20,
  serverErrorRatio: 0.2,
  scannerMin: 10,
} as const;

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new Error(`${name} must be a number above 0 and at most ${max}, not ${text}`);
  }
  return value;
}

export function alertsConfig(env: NodeJS.ProcessEnv = process.env): AlertsConfig {
  return {
    topic: env.KAFKA_ALERTS_TOPIC || ALERT_DEFAULTS.topic,
    serverErrorMin: number(env, 'ALERT_5XX_MIN', ALERT_DEFAULTS.serverErrorMin, 1e9),
    serverErrorRatio: number(env, 'ALERT_5XX_RATIO', ALERT_DEFAULTS.serverErrorRatio, 1),
    scannerMin: number(env, 'ALERT_SCAN_MIN', ALERT_DEFAULTS.scannerMin, 1e9),
  };
}
