/**
 * A large access log in nginx's `combined` format for the benchmarks and the soak, deterministic for a seed:
 * IPv4 and IPv6 clients, browsers, bots and scripts, pages, static files, 404 probes, 5xx, referers,
 * query strings and the `\xNN` escapes nginx writes for UTF-8 and quote bytes.
 */
import { createWriteStream } from 'node:fs';

const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
  'curl/8.5.0',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'python-requests/2.31.0',
  'caf\\xC3\\xA9-bot \\x22quoted\\x22',
  '-',
];
const REFERERS = [
  '-',
  '-',
  '-',
  'https://www.google.com/',
  'https://example.com/blog/post',
  'https://news.ycombinator.com/',
];
const PAGES = [
  '/',
  '/index.html',
  '/about',
  '/blog/post-1',
  '/blog/post-2',
  '/search?q=kafka',
  '/api/items?id=',
  '/login',
];
const STATIC = ['/assets/app.js', '/assets/site.css', '/img/logo.png', '/favicon.ico', '/fonts/inter.woff2'];
const PROBES = ['/wp-login.php', '/.env', '/.git/config', '/xmlrpc.php', '/phpmyadmin/'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const pad = (n: number) => String(n).padStart(2, '0');

function timeLocal(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

export function* logLines(count: number, seed = 42): Generator<string> {
  const random = prng(seed);
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]!;
  const start = Date.UTC(2026, 10, 30, 0, 0, 0);
  for (let i = 0; i < count; i++) {
    const client =
      random() < 0.15
        ? `2001:db8:${Math.floor(random() * 50).toString(16)}::${Math.floor(random() * 500).toString(16)}`
        : `${10 + Math.floor(random() * 3)}.${Math.floor(random() * 20)}.${Math.floor(random() * 50)}.${Math.floor(random() * 250)}`;
    const kind = random();
    let path: string;
    let status = 200;
    let bytes = 0;
    if (kind < 0.55) {
      path = pick(PAGES);
      if (path.endsWith('=')) path += Math.floor(random() * 1000);
      bytes = 500 + Math.floor(random() * 20000);
    } else if (kind < 0.85) {
      path = pick(STATIC);
      status = random() < 0.3 ? 304 : 200;
      bytes = status === 304 ? 0 : 1000 + Math.floor(random() * 90000);
    } else if (kind < 0.93) {
      path = random() < 0.5 ? pick(PROBES) : `/missing/${Math.floor(random() * 200)}`;
      status = 404;
      bytes = 153;
    } else if (kind < 0.97) {
      path = pick(PAGES);
      status = pick([500, 502, 503, 504]);
      bytes = 157;
    } else if (kind < 0.99) {
      path = `/caf\\xC3\\xA9/men\\xC3\\xBC?q=${Math.floor(random() * 100)}`;
    } else {
      path = pick(PAGES);
      status = pick([301, 302, 400, 403, 499]);
      bytes = status === 499 ? 0 : 169;
    }
    const method = random() < 0.9 ? 'GET' : pick(['POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
    const time = timeLocal(start + i * 43);
    yield `${client} - - [${time}] "${method} ${path} HTTP/1.1" ${status} ${bytes} "${pick(REFERERS)}" "${pick(AGENTS)}"`;
  }
}

/** Writes `count` lines to `file`; resolves with its size in bytes. */
export async function writeLog(file: string, count: number, seed = 42): Promise<number> {
  const out = createWriteStream(file);
  let size = 0;
  let chunk: string[] = [];
  for (const line of logLines(count, seed)) {
    chunk.push(line);
    if (chunk.length === 10000) {
      const text = `${chunk.join('\n')}\n`;
      size += Buffer.byteLength(text);
      if (!out.write(text)) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = [];
    }
  }
  if (chunk.length > 0) {
    const text = `${chunk.join('\n')}\n`;
    size += Buffer.byteLength(text);
    out.write(text);
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  return size;
}
