import type { Delivery } from '../../../../lab/compare/broker';
import { clientOf, nginxLines, parsedRecords } from '../../../../lab/compare/records';
import { sequenceOf } from '../../../helpers/workload';
import { markdownTable, svgChart, type Outcome } from '../../../../lab/compare/report';
import type { Results, ScenarioSizes } from '../../../../lab/compare/scenarios';
import { duplicates, latencies, orderViolations, percentile } from '../../../../lab/compare/stats';

const d = (seq: number, key: string, latency = 1): Delivery => ({ seq, key, sentAt: 0, receivedAt: latency });

describe('comparison figures', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(latencies([d(0, 'a', 3), d(1, 'a', 1), d(2, 'a', 2)])).toEqual({ p50: 2, p99: 3 });
  });

  it('counts a record arriving after a later one of the same client as an order violation', () => {
    expect(orderViolations([d(0, 'a'), d(1, 'b'), d(2, 'a'), d(3, 'b')])).toBe(0);
    expect(orderViolations([d(2, 'a'), d(0, 'a'), d(1, 'a'), d(1, 'b')])).toBe(2);
    expect(duplicates([d(0, 'a'), d(0, 'a'), d(1, 'a')])).toBe(1);
  });

  it('writes lines the project’s parser reads back, with their sequence and client', () => {
    const records = parsedRecords(nginxLines(20, 5));
    expect(records.map(sequenceOf)).toEqual(Array.from({ length: 20 }, (_, i) => i + 5));
    expect(records[3]!.remoteAddr).toBe(clientOf(8));
  });
});

describe('comparison report', () => {
  const sizes: ScenarioSizes = {
    records: 2000,
    latencySamples: 200,
    latencyIntervalMs: 5,
    redeliveryRecords: 100,
    restartRecords: 100,
  };
  const results: Results = {
    throughput: {
      records: 2000,
      received: 2000,
      waitSeconds: 60,
      seconds: 1,
      perSecond: 2000,
      orderViolations: 0,
      duplicates: 0,
    },
    latency: { samples: 200, received: 200, p50: 1.5, p99: 12 },
    redelivery: { unacknowledged: 50, redelivered: 50 },
    restart: { skipped: 'not restarted: not ours' },
    native: {
      tool: 'kcat 1.7.1',
      records: 2000,
      sendPerSecond: 250000,
      receivePerSecond: 120000,
      received: 2000,
    },
  };
  const outcomes: Outcome[] = [
    { name: 'Kafka', ok: true, describe: 'Kafka 3.9.1', results },
    { name: 'ActiveMQ', ok: false, reason: 'ActiveMQ is not installed' },
  ];

  it('puts criteria in rows and brokers in columns, with units, and says why a broker was skipped', () => {
    const table = markdownTable(outcomes, sizes);
    expect(table).toContain('| Criterion | Kafka | ActiveMQ |');
    expect(table).toContain(
      '| Throughput, end to end (2,000 records, 1 consumer) | 2,000 records/s | skipped² |',
    );
    expect(table).toContain('| Latency p50 (200 records, one every 5 ms) | 1.5 ms | skipped² |');
    expect(table).toContain('not measured¹');
    expect(table).toContain('¹ Kafka: not restarted: not ours.');
    expect(table).toContain('| ActiveMQ | skipped: ActiveMQ is not installed |');
    expect(table).toContain(
      "| The broker's own tool: send (2,000 records, persistent, acknowledged) | 250,000 records/s | skipped² |",
    );
    expect(table).toContain('120,000 records/s (2,000 read)');
    expect(table).toContain('| Kafka | Kafka 3.9.1; own tool: kcat 1.7.1 |');
  });

  it('says why a broker has no own-tool figure', () => {
    const without: Outcome[] = [
      {
        name: 'SNS',
        ok: true,
        describe: 'emulator',
        results: { ...results, native: { skipped: 'no tool' } },
      },
    ];
    const table = markdownTable(without, sizes);
    expect(table).toContain('not measured³');
    expect(table).toContain('³ SNS: no tool.');
  });

  it('says records that did not arrive in time were delayed or lost, by what a new consumer found', () => {
    const late = (readLater: number): Outcome[] => [
      {
        name: 'ActiveMQ',
        ok: true,
        describe: 'STOMP',
        results: { ...results, throughput: { ...results.throughput, received: 1500, readLater } },
      },
    ];
    const delayed = markdownTable(late(500), sizes);
    expect(delayed).toContain('| Not received / duplicated (throughput run) | 500 not within 60 s⁴ / 0 |');
    expect(delayed).toContain(
      '⁴ ActiveMQ: 500 of 2,000 records had not arrived 60 s after the last was sent; a new consumer then read 500 of them from the broker (delayed, not lost).',
    );
    expect(markdownTable(late(0), sizes)).toContain('(none of them was found: lost)');
    expect(markdownTable(outcomes, sizes)).toContain(
      '| Not received / duplicated (throughput run) | 0 / 0 |',
    );
  });

  it('names the record count of a broker run with fewer records than the others', () => {
    const fewer: Outcome[] = [
      {
        name: 'SNS',
        ok: true,
        describe: 'emulator',
        results: { ...results, throughput: { ...results.throughput, records: 500, received: 500 } },
      },
    ];
    expect(markdownTable(fewer, sizes)).toContain(
      '| Throughput, end to end (2,000 records, 1 consumer) | 2,000 records/s (500 records) |',
    );
  });

  it('draws a bar per measured broker and names the skipped ones', () => {
    const svg = svgChart(outcomes, 'title', 'machine');
    expect(svg.startsWith('<svg')).toBe(true);
    // background, one throughput bar, one own-tool bar, two latency bars
    expect(svg.match(/<rect /g)).toHaveLength(1 + 1 + 1 + 2);
    expect(svg).toContain('Skipped: ActiveMQ');
  });
});
