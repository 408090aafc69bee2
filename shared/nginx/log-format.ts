/**
 * Compiles nginx's `log_format` directive into a line parser that yields the same NginxRecord as the
 * `combined` scanner. Accepted specifications:
 *
 *   combined                                        nginx's predefined format (the combined scanner)
 *   $remote_addr [$time_local] "$request" $status   a format string, variables in any order, `$var` or `${var}`
 *   escape=json {"ip":"$remote_addr",...}           an escape parameter, then the format string
 *   log_format main escape=json '{"ip":"$remote_addr",' '"t":"$time_iso8601"}';
 *                                                   the directive as pasted from nginx.conf (quoted parts joined)
 *
 * A format that cannot be compiled is refused with a LogFormatError naming the column of the problem in the
 * text as given. Variables that have no field of their own in NginxRecord land in `extra`, by name.
 */
import { COMBINED_FORMAT, parseCombined } from './combined';
import { decodeNginxEscapes } from './escapes';
import { outOfLimits, validAddress } from './limits';
import type { NginxRecord, ParseResult } from './record';
import { parseRequestLine, splitTarget } from './request-line';
import { timeLocalToIso } from './time-local';

export type EscapeMode = 'default' | 'json' | 'none';

export class LogFormatError extends Error {
  /** 1-based column in the specification as given, when the problem has a place. */
  readonly column: number | undefined;
  constructor(reason: string, column?: number) {
    super(column === undefined ? `log_format: ${reason}` : `log_format at column ${column}: ${reason}`);
    this.column = column;
  }
}

export interface CompiledLogFormat {
  /** `combined`, the directive's name, or `custom`; travels in the `log-format` header. */
  name: string;
  escape: EscapeMode;
  /** The format string after joining the directive's quoted parts. */
  format: string;
  /** Variable names in the order they appear. */
  variables: string[];
  parse(line: string): ParseResult;
  /** The text it was compiled from: compiling it again gives the same format (e.g. in a worker thread). */
  spec: string;
}

type Token =
  { kind: 'literal'; text: string; column: number } | { kind: 'var'; name: string; column: number };

const NAME_CHAR = /[A-Za-z0-9_]/;
const ESCAPES: readonly EscapeMode[] = ['default', 'json', 'none'];

/** The format string with, for every character, its 1-based column in the specification. */
interface Located {
  text: string;
  columns: number[];
}

function locate(text: string, start: number): Located {
  return { text, columns: Array.from(text, (_, i) => start + i + 1) };
}

/** Joins nginx's quoted strings ('...' or "..."), with backslash escapes, separated by whitespace. */
function joinQuoted(spec: string, from: number): Located {
  const out: Located = { text: '', columns: [] };
  let i = from;
  for (;;) {
    while (i < spec.length && /\s/.test(spec[i]!)) i++;
    if (i >= spec.length || spec[i] === ';') break;
    const quote = spec[i]!;
    if (quote !== "'" && quote !== '"') {
      throw new LogFormatError(
        `expected a quoted part ('...' or "...") of the format, found ${JSON.stringify(spec[i])}`,
        i + 1,
      );
    }
    const open = i++;
    for (;;) {
      if (i >= spec.length)
        throw new LogFormatError(`quoted part opened here has no closing ${quote}`, open + 1);
      const c = spec[i]!;
      if (c === quote) break;
      if (c === '\\' && i + 1 < spec.length) {
        const next = spec[i + 1]!;
        // nginx keeps the backslash except before a quote or a backslash.
        if (next === quote || next === '\\') {
          out.text += next;
          out.columns.push(i + 2);
          i += 2;
          continue;
        }
      }
      out.text += c;
      out.columns.push(i + 1);
      i++;
    }
    i++;
  }
  if (i < spec.length && spec.slice(i + 1).trim().length > 0) {
    throw new LogFormatError('unexpected text after the closing ";"', i + 2);
  }
  if (out.text.length === 0) throw new LogFormatError('the format string is empty', from + 1);
  return out;
}

interface Specification {
  name: string;
  escape: EscapeMode;
  format: Located;
}

function readSpecification(spec: string): Specification {
  let i = 0;
  const skipSpace = () => {
    while (i < spec.length && /\s/.test(spec[i]!)) i++;
  };
  const word = (): string => {
    const start = i;
    while (i < spec.length && !/\s/.test(spec[i]!) && spec[i] !== "'" && spec[i] !== '"') i++;
    return spec.slice(start, i);
  };
  skipSpace();
  let name = 'custom';
  let directive = false;
  if (/^log_format\s/.test(spec.slice(i))) {
    directive = true;
    i += 'log_format'.length;
    skipSpace();
    const nameAt = i;
    name = word();
    if (name.length === 0 || name.startsWith('escape=')) {
      throw new LogFormatError('log_format needs a name before the format (log_format main ...)', nameAt + 1);
    }
    skipSpace();
  }
  let escape: EscapeMode = 'default';
  if (spec.startsWith('escape=', i)) {
    const at = i;
    const value = word().slice('escape='.length);
    if (!ESCAPES.includes(value as EscapeMode)) {
      throw new LogFormatError(
        `escape=${value} is not one of escape=default, escape=json, escape=none`,
        at + 1,
      );
    }
    escape = value as EscapeMode;
    skipSpace();
  }
  if (i >= spec.length) throw new LogFormatError('the format string is empty', i + 1);
  const quoted = spec[i] === "'" || spec[i] === '"';
  const format = directive || quoted ? joinQuoted(spec, i) : locate(spec.slice(i).trimEnd(), i);
  return { name, escape, format };
}

function tokenize(format: Located): Token[] {
  const tokens: Token[] = [];
  const { text, columns } = format;
  let literal = '';
  let literalColumn = 0;
  const pushLiteral = () => {
    if (literal.length > 0) tokens.push({ kind: 'literal', text: literal, column: literalColumn });
    literal = '';
  };
  for (let i = 0; i < text.length;) {
    const column = columns[i]!;
    if (text[i] !== '$') {
      if (literal.length === 0) literalColumn = column;
      literal += text[i];
      i++;
      continue;
    }
    let name: string;
    if (text[i + 1] === '{') {
      const close = text.indexOf('}', i + 2);
      if (close === -1) throw new LogFormatError('"${" has no closing "}"', column);
      name = text.slice(i + 2, close);
      if (!/^[A-Za-z0-9_]+$/.test(name)) {
        throw new LogFormatError(`"\${${name}}" is not a variable name (letters, digits and _ only)`, column);
      }
      i = close + 1;
    } else {
      let end = i + 1;
      while (end < text.length && NAME_CHAR.test(text[end]!)) end++;
      name = text.slice(i + 1, end);
      if (name.length === 0) {
        throw new LogFormatError(
          `"$" is not followed by a variable name${i + 1 < text.length ? ` (found ${JSON.stringify(text[i + 1])})` : ''}`,
          column,
        );
      }
      i = end;
    }
    pushLiteral();
    const previous = tokens[tokens.length - 1];
    if (previous?.kind === 'var') {
      throw new LogFormatError(
        `$${name} follows $${previous.name} with nothing between them, so a line cannot be split into the two; put a separator between them`,
        column,
      );
    }
    tokens.push({ kind: 'var', name, column });
  }
  pushLiteral();
  return tokens;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

const TIME_LOCAL = '\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4}';
const SHAPES: Record<string, string> = {
  time_local: TIME_LOCAL,
  time_iso8601: '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:[+-]\\d{2}:\\d{2}|Z)',
  msec: '\\d+(?:\\.\\d+)?',
  status: '\\d{3}',
  body_bytes_sent: '\\d+|-',
  bytes_sent: '\\d+|-',
  request_length: '\\d+|-',
  connection: '\\d+|-',
  connection_requests: '\\d+|-',
  pid: '\\d+|-',
  request_time: '\\d+(?:\\.\\d+)?|-',
  remote_addr: '\\S+',
  realip_remote_addr: '\\S+',
  remote_port: '\\d+|-',
};

function variablePattern(tokens: Token[], index: number, escape: EscapeMode): string {
  const token = tokens[index] as Extract<Token, { kind: 'var' }>;
  const before = tokens[index - 1];
  const after = tokens[index + 1];
  const quoted =
    before?.kind === 'literal' &&
    before.text.endsWith('"') &&
    after?.kind === 'literal' &&
    after.text.startsWith('"');
  if (quoted) {
    // nginx escapes '"' inside values: \x22 by default, \" with escape=json.
    if (escape === 'default') return '([^"]*)';
    if (escape === 'json') return '((?:[^"\\\\]|\\\\.)*)';
  }
  const shape = SHAPES[token.name];
  if (shape) return `(${shape})`;
  return after === undefined ? '(.*)' : '(.*?)';
}

function describe(token: Token): string {
  return token.kind === 'var' ? `$${token.name}` : JSON.stringify(token.text);
}

const FIELD_VARIABLES = new Set([
  'remote_addr',
  'remote_user',
  'time_local',
  'time_iso8601',
  'msec',
  'request',
  'status',
  'body_bytes_sent',
  'http_referer',
  'http_user_agent',
]);

function unescape(value: string, escape: EscapeMode): string | null {
  if (escape === 'json') {
    if (value.length === 0) return null;
    if (value.indexOf('\\') === -1) return value;
    try {
      return JSON.parse(`"${value}"`) as string;
    } catch {
      return value;
    }
  }
  if (value === '-' || value.length === 0) return null;
  return escape === 'default' ? decodeNginxEscapes(value) : value;
}

class Refusal {
  constructor(readonly reason: string) {}
}

function compileGeneric(spec: Specification): Omit<CompiledLogFormat, 'spec'> {
  const tokens = tokenize(spec.format);
  const variables = tokens.flatMap((t) => (t.kind === 'var' ? [t.name] : []));
  if (variables.length === 0) {
    throw new LogFormatError('the format has no variables ($remote_addr, $time_local, ...)', 1);
  }
  const has = (name: string) => variables.includes(name);
  if (!has('remote_addr') && !has('realip_remote_addr')) {
    throw new LogFormatError(
      'the format has no $remote_addr (or $realip_remote_addr): records are keyed by the client address',
    );
  }
  if (!has('time_local') && !has('time_iso8601') && !has('msec')) {
    throw new LogFormatError('the format has no time: add $time_local, $time_iso8601 or $msec');
  }

  const parts = tokens.map((t, i) =>
    t.kind === 'literal' ? escapeRegExp(t.text) : variablePattern(tokens, i, spec.escape),
  );
  const whole = new RegExp(`^${parts.join('')}$`);
  const prefixes: Array<RegExp | undefined> = [];
  const escape = spec.escape;
  const name = spec.name;

  /** Only on the failure path: the column and token where the line stops matching. */
  function whereItFails(line: string): string {
    let matched = 0;
    for (let k = 0; k < tokens.length; k++) {
      prefixes[k] ??= new RegExp(`^${parts.slice(0, k + 1).join('')}`);
      const m = prefixes[k]!.exec(line);
      if (!m) return `at column ${matched + 1}: expected ${describe(tokens[k]!)}`;
      matched = m[0].length;
    }
    return `at column ${matched + 1}: unexpected text after the last part of the format`;
  }

  function build(line: string, captures: string[]): NginxRecord {
    const values = new Map<string, string>();
    variables.forEach((v, i) => {
      if (!values.has(v)) values.set(v, captures[i]!);
    });
    const text = (v: string): string | null => {
      const value = values.get(v);
      return value === undefined ? null : unescape(value, escape);
    };

    const remoteAddr = text('remote_addr') ?? text('realip_remote_addr');
    if (remoteAddr === null || !validAddress(remoteAddr)) {
      throw new Refusal(
        `client address ${JSON.stringify((remoteAddr ?? '').slice(0, 64))} is not an IPv4 or IPv6 address`,
      );
    }

    let time: string | null = null;
    const timeLocal = text('time_local');
    const iso = text('time_iso8601');
    const msec = text('msec');
    if (timeLocal !== null) time = timeLocalToIso(timeLocal);
    else if (iso !== null) time = Number.isNaN(Date.parse(iso)) ? null : iso;
    else if (msec !== null && /^\d+(\.\d+)?$/.test(msec)) {
      const at = new Date(Number(msec) * 1000);
      time = Number.isNaN(at.getTime()) ? null : at.toISOString();
    }
    if (time === null) {
      throw new Refusal(`time ${JSON.stringify((timeLocal ?? iso ?? msec ?? '').slice(0, 40))} is not valid`);
    }

    let request: string;
    let requestParts: ReturnType<typeof parseRequestLine>;
    if (values.has('request')) {
      request = text('request') ?? '';
      requestParts = parseRequestLine(request);
    } else {
      const method = text('request_method');
      const uri = text('request_uri') ?? text('uri');
      const protocol = text('server_protocol');
      request = [method, uri, protocol].filter((p) => p !== null).join(' ');
      const target = uri === null ? undefined : splitTarget(uri);
      requestParts = {
        method,
        path: target?.path ?? null,
        query: target?.query ?? text('args') ?? text('query_string'),
        protocol,
      };
    }

    const statusText = text('status');
    if (statusText !== null && !/^\d{3}$/.test(statusText)) {
      throw new Refusal(`status ${JSON.stringify(statusText.slice(0, 20))} is not a three-digit number`);
    }
    const bytesText = text('body_bytes_sent');
    if (bytesText !== null && !/^\d+$/.test(bytesText)) {
      throw new Refusal(`body bytes ${JSON.stringify(bytesText.slice(0, 20))} is not a number`);
    }

    const record: NginxRecord = {
      time,
      remoteAddr,
      remoteUser: text('remote_user'),
      request,
      ...requestParts,
      status: statusText === null ? 0 : Number(statusText),
      bodyBytesSent: bytesText === null ? 0 : Number(bytesText),
      referer: text('http_referer'),
      userAgent: text('http_user_agent'),
      raw: line,
    };
    let extra: Record<string, string> | undefined;
    for (const [v, raw] of values) {
      if (FIELD_VARIABLES.has(v)) continue;
      extra ??= {};
      extra[v] = unescape(raw, escape) ?? '';
    }
    if (extra) record.extra = extra;
    const beyond = outOfLimits(record);
    if (beyond !== null) throw new Refusal(beyond.reason);
    return record;
  }

  return {
    name,
    escape,
    format: spec.format.text,
    variables,
    parse(raw: string): ParseResult {
      let line = raw;
      while (line.endsWith('\n') || line.endsWith('\r')) line = line.slice(0, -1);
      if (line.trim().length === 0) return { ok: false, reason: 'empty line' };
      const m = whole.exec(line);
      if (!m) return { ok: false, reason: `not log_format ${name} ${whereItFails(line)}` };
      try {
        return { ok: true, record: build(line, m.slice(1)) };
      } catch (err) {
        if (err instanceof Refusal) return { ok: false, reason: `not log_format ${name}: ${err.reason}` };
        throw err;
      }
    },
  };
}

/**
 * Compiles a `--format` value. `combined` (and a format string identical to it) uses the combined scanner,
 * so the shipper's records are byte-for-byte those of the ingest function.
 */
export function compileLogFormat(spec: string, options: { generic?: boolean } = {}): CompiledLogFormat {
  if (spec.trim().length === 0)
    throw new LogFormatError('the format is empty; use combined or a log_format string', 1);
  const trimmed = spec.trim();
  const combined: CompiledLogFormat = {
    spec,
    name: 'combined',
    escape: 'default',
    format: COMBINED_FORMAT,
    variables: tokenize(locate(COMBINED_FORMAT, 0)).flatMap((t) => (t.kind === 'var' ? [t.name] : [])),
    parse: parseCombined,
  };
  if (trimmed === 'combined' && !options.generic) return combined;
  const parsed =
    trimmed === 'combined'
      ? { name: 'combined', escape: 'default' as const, format: locate(COMBINED_FORMAT, 0) }
      : readSpecification(spec);
  if (!options.generic && parsed.escape === 'default' && parsed.format.text === COMBINED_FORMAT) {
    return { ...combined, name: parsed.name === 'custom' ? 'combined' : parsed.name };
  }
  return { ...compileGeneric(parsed), spec };
}
