/** One nginx access-log line as a typed record: the value of every message on the `nginx_logs` topic. */
export interface NginxRecord {
  /** `$time_local` as ISO 8601 with its UTC offset, e.g. `2024-11-11T12:10:03+00:00`. */
  time: string;
  /** `$remote_addr`: IPv4, IPv6, or `unix:` for a UNIX-socket client. */
  remoteAddr: string;
  /** `$remote_user`, or null where nginx wrote `-`. */
  remoteUser: string | null;
  /** `$request`, the request line as the client sent it (nginx escapes decoded where they form UTF-8). */
  request: string;
  /** Request method, or null when the request line is not `METHOD URI [PROTOCOL]` (TLS on a plain port, junk). */
  method: string | null;
  /** URI path without the query string, or null with the method. */
  path: string | null;
  /** Query string without the `?`, or null when the URI has none. */
  query: string | null;
  /** `HTTP/1.1` and the like, or null for HTTP/0.9-style and malformed request lines. */
  protocol: string | null;
  /** `$status`. */
  status: number;
  /** `$body_bytes_sent`. */
  bodyBytesSent: number;
  /** `$http_referer`, or null where nginx wrote `-`. */
  referer: string | null;
  /** `$http_user_agent`, or null where nginx wrote `-`. */
  userAgent: string | null;
  /** Variables of a custom `log_format` that have no field of their own, by nginx variable name. */
  extra?: Record<string, string>;
  /** The line exactly as nginx wrote it. */
  raw: string;
}

export type ParseResult = { ok: true; record: NginxRecord } | { ok: false; reason: string };
