/**
 * Parser for nginx's predefined `combined` log format:
 *
 *   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
 *
 * A scanner rather than one regular expression, so a line that is not nginx output is refused with the
 * position and the reason, which travel to the dead-letter topic with the original bytes.
 */
import { decodeNginxEscapes } from './escapes';
import { outOfLimits, validAddress } from './limits';
import type { NginxRecord, ParseResult } from './record';
import { parseRequestLine } from './request-line';
import { timeLocalToIso } from './time-local';

export const COMBINED_FORMAT =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

const QUOTE = 34;
const BACKSLASH = 92;

class Refusal {
  constructor(readonly reason: string) {}
}

function refuse(at: number, what: string): never {
  throw new Refusal(`not nginx combined format at column ${at + 1}: ${what}`);
}

/** Reads `"..."` starting at `start` (the opening quote); returns the index of the closing quote. */
function closingQuote(line: string, start: number, field: string): number {
  if (line.charCodeAt(start) !== QUOTE) refuse(start, `expected '"' opening ${field}`);
  let i = start + 1;
  for (;;) {
    const end = line.indexOf('"', i);
    if (end === -1) refuse(start, `${field} has no closing '"'`);
    let backslashes = 0;
    for (let j = end - 1; j > start && line.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return end;
    i = end + 1;
  }
}

function expect(line: string, at: number, text: string, after: string): number {
  if (!line.startsWith(text, at)) refuse(at, `expected ${JSON.stringify(text)} after ${after}`);
  return at + text.length;
}

function dashToNull(value: string): string | null {
  return value === '-' || value === '' ? null : decodeNginxEscapes(value);
}

function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function scan(raw: string): NginxRecord {
  let line = raw;
  while (line.length > 0 && (line.endsWith('\n') || line.endsWith('\r'))) line = line.slice(0, -1);
  if (line.trim().length === 0) throw new Refusal('empty line');

  const addrEnd = line.indexOf(' ');
  if (addrEnd <= 0) refuse(0, 'expected the client address followed by a space');
  const remoteAddr = line.slice(0, addrEnd);
  if (!validAddress(remoteAddr)) {
    refuse(0, `client address ${JSON.stringify(remoteAddr.slice(0, 64))} is not an IPv4 or IPv6 address`);
  }
  let pos = expect(line, addrEnd, ' - ', 'the client address');

  const timeOpen = line.indexOf(' [', pos);
  if (timeOpen === -1) refuse(pos, "expected ' [' opening $time_local after $remote_user");
  const remoteUser = dashToNull(line.slice(pos, timeOpen));
  pos = timeOpen + 2;
  const timeClose = line.indexOf(']', pos);
  if (timeClose === -1) refuse(pos, "$time_local has no closing ']'");
  const timeText = line.slice(pos, timeClose);
  const time = timeLocalToIso(timeText);
  if (time === null)
    refuse(pos, `time ${JSON.stringify(timeText.slice(0, 40))} is not dd/Mon/yyyy:hh:mm:ss +zzzz`);
  pos = expect(line, timeClose + 1, ' ', '$time_local');

  const requestEnd = closingQuote(line, pos, '$request');
  const requestText = line.slice(pos + 1, requestEnd);
  pos = expect(line, requestEnd + 1, ' ', '$request');

  const statusEnd = line.indexOf(' ', pos);
  const statusText = statusEnd === -1 ? line.slice(pos) : line.slice(pos, statusEnd);
  if (statusText.length !== 3 || !isDigits(statusText)) {
    refuse(pos, `status ${JSON.stringify(statusText.slice(0, 20))} is not a three-digit number`);
  }
  pos = expect(line, pos + 3, ' ', '$status');

  const bytesEnd = line.indexOf(' ', pos);
  const bytesText = bytesEnd === -1 ? line.slice(pos) : line.slice(pos, bytesEnd);
  if (bytesText !== '-' && !isDigits(bytesText)) {
    refuse(pos, `body bytes ${JSON.stringify(bytesText.slice(0, 20))} is not a number`);
  }
  pos = expect(line, pos + bytesText.length, ' ', '$body_bytes_sent');

  const refererEnd = closingQuote(line, pos, '$http_referer');
  const referer = dashToNull(line.slice(pos + 1, refererEnd));
  pos = expect(line, refererEnd + 1, ' ', '$http_referer');

  const agentEnd = closingQuote(line, pos, '$http_user_agent');
  const userAgent = dashToNull(line.slice(pos + 1, agentEnd));
  if (line.slice(agentEnd + 1).trim().length > 0) {
    refuse(agentEnd + 1, 'unexpected text after $http_user_agent (a custom log_format needs --format)');
  }

  const request = requestText === '-' ? '' : decodeNginxEscapes(requestText);
  const parts = parseRequestLine(request);
  // Fields named one by one rather than spread: the same order (and so the same JSON), fewer copies.
  return {
    time,
    remoteAddr,
    remoteUser,
    request,
    method: parts.method,
    path: parts.path,
    query: parts.query,
    protocol: parts.protocol,
    status: Number(statusText),
    bodyBytesSent: bytesText === '-' ? 0 : Number(bytesText),
    referer,
    userAgent,
    raw: line,
  };
}

export function parseCombined(raw: string): ParseResult {
  try {
    const record = scan(raw);
    const beyond = outOfLimits(record);
    return beyond === null ? { ok: true, record } : { ok: false, reason: beyond.reason };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, reason: err.reason };
    throw err;
  }
}
