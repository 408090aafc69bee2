/**
 * The comparison's output: a Markdown table in the shape of the seed report's comparison (criteria as rows,
 * brokers as columns, measured values with units) and an SVG chart of throughput and latency.
 */
import type { Results, ScenarioSizes, ThroughputResult } from './scenarios';

export type Outcome =
  | { name: string; ok: true; describe: string; results: Results }
  | { name: string; ok: false; reason: string };

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isNaN(n) ? 'n/a' : n < 10 ? `${n.toFixed(1)} ms` : `${int(n)} ms`);

/**
 * Records the throughput consumer did not get: "0", or how many had not arrived within the wait (the
 * footnote says whether a new consumer found them in the broker afterwards, i.e. delayed or lost).
 */
function missing(t: ThroughputResult): string {
  const count = t.records - t.received;
  return count === 0 ? '0' : `${int(count)} not within ${int(t.waitSeconds)} s⁴`;
}

/** The footnote to a throughput run in which records did not arrive in time. */
function missingNote(name: string, t: ThroughputResult): string {
  const count = t.records - t.received;
  const later = t.readLater ?? 0;
  const verdict =
    later === count
      ? 'delayed, not lost'
      : later === 0
        ? 'none of them was found: lost'
        : `${int(count - later)} not found: lost or delayed further`;
  return (
    `⁴ ${name}: ${int(count)} of ${int(t.records)} records had not arrived ${int(t.waitSeconds)} s after the last ` +
    `was sent; a new consumer then read ${int(later)} of them from the broker (${verdict}).`
  );
}

interface Row {
  criterion: string;
  value: (r: Results) => string;
}

export function rows(sizes: ScenarioSizes): Row[] {
  return [
    {
      criterion: `Throughput, end to end (${int(sizes.records)} records, 1 consumer)`,
      // A broker run with fewer records (--sns-records) says how many.
      value: (r) =>
        `${int(r.throughput.perSecond)} records/s` +
        (r.throughput.records === sizes.records ? '' : ` (${int(r.throughput.records)} records)`),
    },
    {
      criterion: `Latency p50 (${sizes.latencySamples} records, one every ${sizes.latencyIntervalMs} ms)`,
      value: (r) => ms(r.latency.p50),
    },
    { criterion: 'Latency p99', value: (r) => ms(r.latency.p99) },
    {
      criterion: 'Order violations per client (throughput run)',
      value: (r) => `${int(r.throughput.orderViolations)} of ${int(r.throughput.records)}`,
    },
    {
      criterion: 'Not received / duplicated (throughput run)',
      value: (r) => `${missing(r.throughput)} / ${int(r.throughput.duplicates)}`,
    },
    {
      criterion: 'Unacknowledged records redelivered to a restarted consumer',
      value: (r) => `${int(r.redelivery.redelivered)} of ${int(r.redelivery.unacknowledged)}`,
    },
    {
      criterion: 'Unconsumed records that survive a broker restart',
      value: (r) =>
        'skipped' in r.restart ? 'not measured¹' : `${int(r.restart.survived)} of ${int(r.restart.sent)}`,
    },
    {
      criterion: `The broker's own tool: send (${int(sizes.records)} records, persistent, acknowledged)`,
      value: (r) => ('skipped' in r.native ? 'not measured³' : `${int(r.native.sendPerSecond)} records/s`),
    },
    {
      criterion: "The broker's own tool: read them back",
      value: (r) =>
        'skipped' in r.native
          ? 'not measured³'
          : `${int(r.native.receivePerSecond)} records/s (${int(r.native.received)} read)`,
    },
  ];
}

export function markdownTable(outcomes: Outcome[], sizes: ScenarioSizes): string {
  const header = `| Criterion | ${outcomes.map((o) => o.name).join(' | ')} |`;
  const rule = `| --- | ${outcomes.map(() => '---').join(' | ')} |`;
  const body = rows(sizes).map(
    (row) =>
      `| ${row.criterion} | ${outcomes.map((o) => (o.ok ? row.value(o.results) : 'skipped²')).join(' | ')} |`,
  );
  const used = outcomes.map((o) => {
    if (!o.ok) return `| ${o.name} | skipped: ${o.reason} |`;
    const tool = 'skipped' in o.results.native ? '' : `; own tool: ${o.results.native.tool}`;
    return `| ${o.name} | ${o.describe}${tool} |`;
  });
  const notes: string[] = [];
  for (const o of outcomes) {
    if (o.ok && 'skipped' in o.results.restart) notes.push(`¹ ${o.name}: ${o.results.restart.skipped}.`);
  }
  if (outcomes.some((o) => !o.ok)) notes.push('² skipped: the reason is in the table below.');
  for (const o of outcomes) {
    if (o.ok && 'skipped' in o.results.native) notes.push(`³ ${o.name}: ${o.results.native.skipped}.`);
  }
  for (const o of outcomes) {
    if (o.ok && o.results.throughput.received < o.results.throughput.records) {
      notes.push(missingNote(o.name, o.results.throughput));
    }
  }
  return [
    header,
    rule,
    ...body,
    '',
    ...notes,
    ...(notes.length ? [''] : []),
    '| Broker | What ran |',
    '| --- | --- |',
    ...used,
  ].join('\n');
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd'];
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Two horizontal bar charts: throughput (records/s) and latency p50/p99 (ms, log scale). */
export function svgChart(outcomes: Outcome[], caption: string, subtitle = ''): string {
  const measured = outcomes.filter((o): o is Extract<Outcome, { ok: true }> => o.ok);
  const width = 760;
  const left = 110;
  const barWidth = width - left - 120;
  const rowHeight = 26;
  const out: string[] = [];
  let y = 48;
  out.push(`<text x="10" y="20" font-size="15" font-weight="bold">${escape(caption)}</text>`);
  out.push(`<text x="10" y="38" font-size="11" fill="#666">${escape(subtitle)}</text>`);

  y += 10;
  out.push(
    `<text x="10" y="${y}" font-size="13" font-weight="bold">Throughput, end to end (records/s, higher is better)</text>`,
  );
  y += 10;
  const maxRate = Math.max(1, ...measured.map((o) => o.results.throughput.perSecond));
  measured.forEach((o, i) => {
    const w = Math.max(1, (o.results.throughput.perSecond / maxRate) * barWidth);
    out.push(`<text x="10" y="${y + 17}" font-size="12">${escape(o.name)}</text>`);
    out.push(
      `<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="18" fill="${COLORS[i % COLORS.length]}"/>`,
    );
    out.push(
      `<text x="${left + w + 6}" y="${y + 17}" font-size="12">${int(o.results.throughput.perSecond)}</text>`,
    );
    y += rowHeight;
  });

  const tools = measured.filter((o) => !('skipped' in o.results.native));
  if (tools.length > 0) {
    y += 24;
    out.push(
      `<text x="10" y="${y}" font-size="13" font-weight="bold">The broker's own tool, send (records/s; the same records)</text>`,
    );
    y += 10;
    const sendRate = (o: (typeof measured)[number]) =>
      'skipped' in o.results.native ? 0 : o.results.native.sendPerSecond;
    const maxTool = Math.max(1, ...tools.map(sendRate));
    tools.forEach((o) => {
      const w = Math.max(1, (sendRate(o) / maxTool) * barWidth);
      const color = COLORS[measured.indexOf(o) % COLORS.length];
      out.push(`<text x="10" y="${y + 17}" font-size="12">${escape(o.name)}</text>`);
      out.push(
        `<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="18" fill="${color}" fill-opacity="0.6"/>`,
      );
      out.push(`<text x="${left + w + 6}" y="${y + 17}" font-size="12">${int(sendRate(o))}</text>`);
      y += rowHeight;
    });
  }

  y += 24;
  out.push(
    `<text x="10" y="${y}" font-size="13" font-weight="bold">Latency p50 and p99 (ms, log scale, lower is better)</text>`,
  );
  y += 10;
  const all = measured.flatMap((o) => [o.results.latency.p50, o.results.latency.p99]).filter((v) => v > 0);
  const maxLog = Math.log10(Math.max(10, ...all) * 1.5);
  const minLog = Math.log10(Math.min(1, ...all) / 1.5);
  const scale = (v: number) =>
    Math.max(1, ((Math.log10(Math.max(v, 10 ** minLog)) - minLog) / (maxLog - minLog)) * barWidth);
  measured.forEach((o, i) => {
    const color = COLORS[i % COLORS.length];
    for (const [label, value, opacity] of [
      ['p50', o.results.latency.p50, 1],
      ['p99', o.results.latency.p99, 0.45],
    ] as const) {
      const w = scale(value);
      out.push(`<text x="10" y="${y + 15}" font-size="12">${escape(o.name)} ${label}</text>`);
      out.push(
        `<rect x="${left}" y="${y + 3}" width="${w.toFixed(1)}" height="15" fill="${color}" fill-opacity="${opacity}"/>`,
      );
      out.push(`<text x="${left + w + 6}" y="${y + 15}" font-size="12">${ms(value)}</text>`);
      y += 20;
    }
    y += 6;
  });
  const skipped = outcomes.filter((o) => !o.ok);
  if (skipped.length > 0) {
    y += 10;
    out.push(
      `<text x="10" y="${y}" font-size="11" fill="#666">Skipped: ${escape(skipped.map((o) => o.name).join(', '))}</text>`,
    );
  }
  const height = y + 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
