/**
 * How one request lands in the panels, with the rules GoAccess uses for the same panels so the two agree:
 * which requests are static files, how a request line becomes a "requested file", which requests count
 * toward unique visitors, and the host of a referer. Browser and OS names are coarse families.
 */

/** GoAccess's default static-file extensions (its shipped goaccess.conf), matched case-insensitively. */
export const STATIC_EXTENSIONS = [
  '.css',
  '.js',
  '.jpg',
  '.png',
  '.gif',
  '.ico',
  '.jpeg',
  '.pdf',
  '.csv',
  '.mpeg',
  '.mpg',
  '.swf',
  '.woff',
  '.woff2',
  '.xls',
  '.xlsx',
  '.doc',
  '.docx',
  '.ppt',
  '.pptx',
  '.txt',
  '.zip',
  '.ogg',
  '.mp3',
  '.mp4',
  '.exe',
  '.iso',
  '.gz',
  '.rar',
  '.svg',
  '.bmp',
  '.tar',
  '.tgz',
  '.tiff',
  '.tif',
  '.ttf',
  '.flv',
  '.dmg',
  '.xz',
  '.zst',
];

const STATIC_SET = new Set(STATIC_EXTENSIONS);

/** Methods a request line may start with (matched case-insensitively, reported upper case). */
export const HTTP_METHODS = [
  'OPTIONS',
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'TRACE',
  'CONNECT',
  'PATCH',
  'SEARCH',
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
  'VERSION-CONTROL',
  'REPORT',
  'CHECKOUT',
  'CHECKIN',
  'UNCHECKOUT',
  'MKWORKSPACE',
  'UPDATE',
  'LABEL',
  'MERGE',
  'BASELINE-CONTROL',
  'MKACTIVITY',
  'ORDERPATCH',
];
const METHOD_SET = new Set(HTTP_METHODS);
const PROTOCOLS = new Set(['HTTP/1.0', 'HTTP/1.1', 'HTTP/2', 'HTTP/2.0', 'HTTP/3', 'HTTP/3.0']);

/** Written where a request line has no recognisable method or protocol. */
export const NO_METHOD = '---';

export interface RequestKey {
  method: string;
  protocol: string;
  /**
   * The URI with its query string, `%XX` decoded; `-` for a method without a protocol; the whole line for
   * junk.
   */
  uri: string;
}

/**
 * A request line as a requested file: `METHOD URI PROTOCOL` gives the URI (query string included); a known
 * method without a protocol gives `-`; anything else (a TLS handshake, junk) is its own key.
 */
export function requestKey(request: string): RequestKey {
  const first = request.indexOf(' ');
  const method = first > 0 ? request.slice(0, first).toUpperCase() : '';
  if (!METHOD_SET.has(method)) return { method: NO_METHOD, protocol: NO_METHOD, uri: request || '-' };
  const last = request.lastIndexOf(' ');
  const protocol = last > first ? request.slice(last + 1) : '';
  if (!PROTOCOLS.has(protocol)) return { method: NO_METHOD, protocol: NO_METHOD, uri: '-' };
  return { method, protocol, uri: decodePercent(request.slice(first + 1, last)) };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function hex(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/**
 * `%XX` escapes decoded once (a `+` stays a `+`), as GoAccess shows URLs; text whose decoded bytes are not
 * UTF-8 is kept as it was.
 */
export function decodePercent(uri: string): string {
  if (uri.indexOf('%') === -1) return uri;
  const input = Buffer.from(uri, 'utf8');
  const out = Buffer.alloc(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i]!;
    if (byte === 37 && i + 2 < input.length) {
      const hi = hex(input[i + 1]!);
      const lo = hex(input[i + 2]!);
      if (hi >= 0 && lo >= 0) {
        out[n++] = hi * 16 + lo;
        i += 2;
        continue;
      }
    }
    out[n++] = byte;
  }
  try {
    return utf8.decode(out.subarray(0, n));
  } catch {
    return uri;
  }
}

/** One string per requested file, for counters: `METHOD PROTOCOL URI` (the URI may hold spaces). */
export function encodeRequestKey(key: RequestKey): string {
  return `${key.method} ${key.protocol} ${key.uri}`;
}

export function decodeRequestKey(text: string): RequestKey {
  const a = text.indexOf(' ');
  const b = text.indexOf(' ', a + 1);
  return { method: text.slice(0, a), protocol: text.slice(a + 1, b), uri: text.slice(b + 1) };
}

/** True when the URI (query string included, as GoAccess checks it) ends in a static-file extension. */
export function isStaticFile(uri: string): boolean {
  const dot = uri.lastIndexOf('.');
  if (dot === -1 || uri.length - dot > 6) return false;
  return STATIC_SET.has(uri.slice(dot).toLowerCase());
}

/** Unique visitors: one per client address, day and user agent; 4xx answers do not count (as GoAccess). */
export function countsAsVisitor(status: number): boolean {
  return status < 400 || status >= 500;
}

/** The host of a referer URL (`https://example.com/x` → `example.com`), or null when it has none. */
export function refererHost(referer: string | null): string | null {
  if (!referer) return null;
  const scheme = referer.indexOf('://');
  const start = scheme === -1 ? 0 : scheme + 3;
  let end = referer.length;
  for (const stop of ['/', '?', '#']) {
    const at = referer.indexOf(stop, start);
    if (at !== -1 && at < end) end = at;
  }
  const host = referer.slice(start, end);
  return host.length > 0 ? host : null;
}

export interface Agent {
  browser: string;
  os: string;
}

const BROWSERS: Array<[RegExp, string]> = [
  [
    /Googlebot|bingbot|Baiduspider|YandexBot|DuckDuckBot|Slurp|AhrefsBot|SemrushBot|crawler|spider|bot\b/i,
    'Crawlers',
  ],
  [/Edg(e|A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/Firefox\//, 'Firefox'],
  [/Chrome\/|CriOS\//, 'Chrome'],
  [/Safari\//, 'Safari'],
  [/MSIE |Trident\//, 'MSIE'],
  [/^curl\/|^Wget\/|python-requests|Go-http-client|okhttp|Java\/|libwww|HTTPie/i, 'Others'],
];

const SYSTEMS: Array<[RegExp, string]> = [
  [/Android/, 'Android'],
  [/iPhone|iPad|iPod|iOS/, 'iOS'],
  [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'Chrome OS'],
  [/Linux|X11/, 'Linux'],
  [/FreeBSD|OpenBSD|NetBSD/, 'BSD'],
];

function firstMatch(table: Array<[RegExp, string]>, text: string): string {
  for (const [pattern, name] of table) if (pattern.test(text)) return name;
  return 'Unknown';
}

/** Browser and OS family of a user agent; `Unknown` when there is none or nothing matches. */
export function classifyAgent(userAgent: string | null): Agent {
  if (!userAgent) return { browser: 'Unknown', os: 'Unknown' };
  return { browser: firstMatch(BROWSERS, userAgent), os: firstMatch(SYSTEMS, userAgent) };
}
