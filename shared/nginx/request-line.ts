/**
 * Splits nginx's `$request` into method, path, query and protocol. Anything nginx logged is accepted:
 * a request line that is not `METHOD URI [HTTP/x.y]` (a TLS handshake on a plain port, a scanner's junk)
 * keeps its text in `request` and leaves the parts null.
 */
export interface RequestParts {
  method: string | null;
  path: string | null;
  query: string | null;
  protocol: string | null;
}

const NONE: RequestParts = { method: null, path: null, query: null, protocol: null };
const METHOD = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const PROTOCOL = /^HTTP\/\d+(\.\d+)?$/;

export function parseRequestLine(request: string): RequestParts {
  const firstSpace = request.indexOf(' ');
  if (firstSpace <= 0) return NONE;
  const method = request.slice(0, firstSpace);
  if (!METHOD.test(method)) return NONE;

  let rest = request.slice(firstSpace + 1);
  let protocol: string | null = null;
  const lastSpace = rest.lastIndexOf(' ');
  if (lastSpace >= 0 && PROTOCOL.test(rest.slice(lastSpace + 1))) {
    protocol = rest.slice(lastSpace + 1);
    rest = rest.slice(0, lastSpace);
  } else if (PROTOCOL.test(rest)) {
    return { ...NONE, method, protocol: rest };
  }
  if (rest.length === 0) return { ...NONE, method, protocol };

  return { method, ...splitTarget(rest), protocol };
}

/** A request target split at its first `?`: `/a?b=1` → path `/a`, query `b=1`; no `?`, no query. */
export function splitTarget(target: string): { path: string; query: string | null } {
  const q = target.indexOf('?');
  return q === -1 ? { path: target, query: null } : { path: target.slice(0, q), query: target.slice(q + 1) };
}
