/**
 * The traffic panels as a pure fold: records in, counters out. The same fold serves the Lambda consumer
 * (one fold per batch, written to the store as increments), the stats of a whole log in memory (the GoAccess
 * comparison and the benchmark), and the tests.
 */
import type { NginxRecord } from '../nginx/record';
import { maskAddress } from './anonymize-ip';
import {
  classifyAgent,
  countsAsVisitor,
  encodeRequestKey,
  isStaticFile,
  refererHost,
  requestKey,
  type Agent,
} from './classify';

/** The fields of a record the panels read. */
export type TrafficRecord = Pick<
  NginxRecord,
  'time' | 'remoteAddr' | 'request' | 'status' | 'bodyBytesSent' | 'referer' | 'userAgent'
>;

/** Panels counted by key (hits per key), named as in GoAccess's report. */
export const PANELS = [
  'requests',
  'static_requests',
  'not_found',
  'hosts',
  'os',
  'browsers',
  'visit_time',
  'referring_sites',
  'status_codes',
] as const;
export type PanelName = (typeof PANELS)[number];

/** Per-minute series. */
export const SERIES = ['requests', 'status4xx', 'status5xx', 'bytes'] as const;
export type SeriesName = (typeof SERIES)[number];

/** Whole-stream totals. */
export const TOTALS = ['requests', 'failed', 'bandwidth'] as const;
export type TotalName = (typeof TOTALS)[number];

export class TrafficFold {
  readonly totals: Record<TotalName, number> = { requests: 0, failed: 0, bandwidth: 0 };
  readonly panels = Object.fromEntries(PANELS.map((p) => [p, new Map<string, number>()])) as Record<
    PanelName,
    Map<string, number>
  >;
  /** Day (`yyyy-mm-dd` of the log) → visitorId(day, address, agent) of every request that counts as a visit. */
  readonly visitors = new Map<string, Set<number>>();
  /** Minute (epoch seconds, as text) → count, per series. */
  readonly series = Object.fromEntries(SERIES.map((s) => [s, new Map<string, number>()])) as Record<
    SeriesName,
    Map<string, number>
  >;
  /** Why records failed, reason → count. */
  readonly failures = new Map<string, number>();

  private readonly agents = new Map<string, Agent & { lanes: Lanes }>();
  private lastMinuteText = '';
  private lastMinute = '';

  /** anonymizeIp: the hosts panel holds masked addresses (unique visitors still count whole ones). */
  constructor(private readonly options: { anonymizeIp?: boolean } = {}) {}

  /** Distinct (day, address, agent) visits: GoAccess's "Unique Visitors". */
  get uniqueVisitors(): number {
    let n = 0;
    for (const day of this.visitors.values()) n += day.size;
    return n;
  }

  add(r: TrafficRecord): void {
    const t = this.totals;
    t.requests++;
    t.bandwidth += r.bodyBytesSent;
    const p = this.panels;

    const key = requestKey(r.request);
    const member = encodeRequestKey(key);
    if (r.status === 404) bump(p.not_found, member);
    else if (isStaticFile(key.uri)) bump(p.static_requests, member);
    else bump(p.requests, member);

    bump(p.hosts, this.options.anonymizeIp ? maskAddress(r.remoteAddr) : r.remoteAddr);
    const ua = r.userAgent ?? '-';
    let agent = this.agents.get(ua);
    if (!agent) {
      agent = { ...classifyAgent(r.userAgent), lanes: agentLanes(ua) };
      if (this.agents.size < 10000) this.agents.set(ua, agent);
    }
    bump(p.os, agent.os);
    bump(p.browsers, agent.browser);
    // `time` keeps nginx's local offset: day and hour are those of the log, as GoAccess shows them.
    bump(p.visit_time, r.time.slice(11, 13));
    const host = refererHost(r.referer);
    if (host !== null) bump(p.referring_sites, host);
    bump(p.status_codes, STATUS_TEXT[r.status] ?? String(r.status));
    if (countsAsVisitor(r.status)) {
      const day = r.time.slice(0, 10);
      let visits = this.visitors.get(day);
      if (!visits) this.visitors.set(day, (visits = new Set()));
      visits.add(visitorId(day, r.remoteAddr, ua, agent.lanes));
    }

    const minute = this.minuteOf(r.time);
    const s = this.series;
    bump(s.requests, minute);
    if (r.status >= 400 && r.status < 500) bump(s.status4xx, minute);
    else if (r.status >= 500 && r.status < 600) bump(s.status5xx, minute);
    if (r.bodyBytesSent > 0) bump(s.bytes, minute, r.bodyBytesSent);
  }

  /** A record that could not be read: counted apart, never in the panels. */
  fail(reason: string): void {
    this.totals.failed++;
    bump(this.failures, reason);
  }

  /** Epoch seconds of the record's minute, as text; one Date.parse per distinct minute in a row. */
  private minuteOf(time: string): string {
    const text = time.slice(0, 16) + time.slice(19);
    if (text !== this.lastMinuteText) {
      this.lastMinuteText = text;
      const ms = Date.parse(time);
      this.lastMinute = String(Math.floor(ms / 60000) * 60);
    }
    return this.lastMinute;
  }
}

const STATUS_TEXT = Array.from({ length: 1000 }, (_, i) => String(i));

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** Two 32-bit FNV-1a-style hash lanes with different multipliers. */
type Lanes = readonly [number, number];
const SEED: Lanes = [0x811c9dc5, 0x01000193 ^ 0x5bd1e995];

function mix(lanes: Lanes, text: string): Lanes {
  let [a, b] = lanes;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  // a separator, so ("ab", "c") and ("a", "bc") differ
  return [Math.imul(a ^ 0x7c, 0x01000193), Math.imul(b ^ 0x7c, 0x5bd1e995) ^ (b >>> 15)];
}

/** The hash lanes of a user agent, which the fold caches per agent. */
export const agentLanes = (agent: string): Lanes => mix(SEED, agent);

function finish([a, b]: Lanes): number {
  return (b >>> 11) * 0x100000000 + (a >>> 0);
}

/**
 * One unique visitor (user agent, day, client address) as a 53-bit number. Sets of numbers stay small and
 * fast at millions of visitors; the chance that two of a million visitors share an id is about 1 in 18,000.
 */
export function visitorId(day: string, address: string, agent: string, lanes = agentLanes(agent)): number {
  return finish(mix(mix(lanes, day), address));
}
