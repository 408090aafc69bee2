/** nginx `combined` lines written by tests: `$time_local` of a moment, in UTC as nginx writes it. */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function timeLocal(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())} +0000`;
}

/** ISO 8601 of now to the second, as records carry it. */
export function isoNow(): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', '+00:00');
}

/** A record value as a producer that skipped the parser could write it: any time and body bytes. */
export function recordValue(i: number, bytes: number, time: string, path = `/p/${i}`): string {
  return JSON.stringify({
    time,
    remoteAddr: `203.0.113.${i % 250}`,
    remoteUser: null,
    request: `GET ${path} HTTP/1.1`,
    method: 'GET',
    path,
    query: null,
    protocol: 'HTTP/1.1',
    status: 200,
    bodyBytesSent: bytes,
    referer: null,
    userAgent: 'curl/8.5.0',
    raw: `line ${i}`,
  });
}
