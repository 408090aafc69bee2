/**
 * Varied traffic for a real nginx, deterministic for a seed: clients on many loopback addresses (IPv4 and
 * IPv6), many methods, statuses and user agents, referers, query strings, UTF-8 and quote bytes nginx
 * escapes, long request lines, HTTP/1.0 and 0.9, a lower-case method and a TLS handshake on the plain port.
 */
import { connect } from 'node:net';

export interface RawRequest {
  /** Local address to connect from (any 127.0.0.0/8 address is this machine), or ::1. */
  from: string;
  bytes: Buffer;
}

const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
  'curl/8.5.0',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'python-requests/2.31.0',
  'Mozilla/5.0 "quoted" caf\u00e9-agent',
  null,
];
const REFERERS = [
  null,
  'https://www.google.com/search?q=nginx',
  'https://example.com/page',
  'http://[::1]/index.html',
];
const PATHS = [
  '/',
  '/index.html',
  '/about.html',
  '/assets/app.js?v=3',
  '/assets/site.css',
  '/assets/logo.png',
  '/ASSETS/LOGO.PNG',
  '/robots.txt',
  '/missing',
  '/missing.css',
  '/wp-login.php',
  '/.env',
  '/e500',
  '/e502',
  '/e503',
  '/moved',
  '/teapot',
  '/gone',
  '/api',
  '/dav/file',
  '/search?q=a+b&lang=en',
  '/caf%C3%A9?q=%20x%2Fy',
  '/caf\u00e9/men\u00fc',
  '/back\\slash',
];
const METHODS = ['GET', 'GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'PROPFIND'];

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function http11(
  method: string,
  path: string,
  agent: string | null,
  referer: string | null,
  body = '',
): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: localhost', 'Connection: close'];
  if (agent !== null) lines.push(`User-Agent: ${agent}`);
  if (referer !== null) lines.push(`Referer: ${referer}`);
  if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'utf8');
}

export function variedTraffic(count: number, seed = 7): RawRequest[] {
  const random = prng(seed);
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]!;
  const clients = [...Array(12)].map((_, i) => `127.0.0.${i + 1}`).concat(['::1', '::1']);
  const out: RawRequest[] = [];
  for (let i = 0; i < count; i++) {
    const method = pick(METHODS);
    out.push({
      from: pick(clients),
      bytes: http11(method, pick(PATHS), pick(AGENTS), pick(REFERERS), method === 'POST' ? 'a=1&b=2' : ''),
    });
  }
  const special = (bytes: Buffer | string, from = '127.0.0.1') =>
    out.push({ from, bytes: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'utf8') });
  special('GET /index.html HTTP/1.0\r\nUser-Agent: old-client/1.0\r\n\r\n');
  special('GET /\r\n');
  special('get /lowercase HTTP/1.1\r\nHost: localhost\r\n\r\n', '127.0.0.2');
  special(http11('GET', `/long?${'x'.repeat(5000)}`, AGENTS[0]!, null), '::1');
  special(http11('GET', `/longer/${'y'.repeat(7000)}`, AGENTS[1]!, null), '127.0.0.3');
  special(http11('GET', `/mid?${'z'.repeat(3000)}`, AGENTS[4]!, REFERERS[1]!));
  special(
    Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a]),
  );
  special('GET /tab\there HTTP/1.1\r\nHost: localhost\r\n\r\n');
  return out;
}

/** Sends each request on its own connection (a few at a time) and waits for nginx to close it. */
export async function sendAll(port: number, requests: RawRequest[], parallel = 8): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const r = requests[next++]!;
      await new Promise<void>((resolve, reject) => {
        const socket = connect({
          port,
          host: r.from === '::1' ? '::1' : '127.0.0.1',
          localAddress: r.from,
        });
        socket.setTimeout(15000, () => socket.destroy(new Error('nginx did not close the connection')));
        socket.on('data', () => undefined);
        socket.once('error', reject);
        socket.once('close', () => resolve());
        socket.once('connect', () => socket.end(r.bytes));
      });
    }
  };
  await Promise.all([...Array(parallel)].map(worker));
}
