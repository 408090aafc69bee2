import { DemoTally, fanoutVerdict, loadBalancingVerdict } from '../../../../lab/demo/tally';

const batch = (fn: string, source: string, n: number, partitions: string[]) =>
  JSON.stringify({
    level: 'info',
    msg: 'summarizer.batch',
    function: `nginx-kafka-serverless-local-${fn}`,
    sources: { [source]: n, 'http:other': 3 },
    partitions: Object.fromEntries(partitions.map((p) => [p, { first: 0, last: 0, count: 1 }])),
  });

function tallyOf(lines: string[]): DemoTally {
  const tally = new DemoTally('http:run');
  for (const line of lines) tally.observe(line);
  return tally;
}

const joins = [
  'Kafka [analytics] joined group analytics: nginx_logs partitions [0, 1, 2]',
  'Kafka [alerts] joined group alerts: nginx_logs partitions [0, 1, 2]',
  'Kafka [summarizerA] joined group summarizers: nginx_logs partitions [0, 2]',
  'Kafka [summarizerB] joined group summarizers: nginx_logs partitions [1]',
];

describe('DemoTally', () => {
  it('counts only the records of its own run, per function and group', () => {
    const tally = tallyOf([
      ...joins,
      batch('analytics', 'http:run', 4, ['nginx_logs-0', 'nginx_logs-1']),
      batch('alerts', 'http:run', 3, ['nginx_logs-0']),
      batch('alerts', 'http:run', 1, ['nginx_logs-1']),
      batch('summarizerA', 'http:run', 2, ['nginx_logs-0']),
      batch('summarizerB', 'http:run', 2, ['nginx_logs-1']),
      'not json at all',
    ]);
    expect(tally.complete(4)).toBe(true);
    expect(fanoutVerdict(tally, 4).ok).toBe(true);
    const lb = loadBalancingVerdict(tally, 4);
    expect(lb.ok).toBe(true);
    expect(lb.lines.join('\n')).toContain('split between 2 members (2 + 2)');
  });

  it('is not complete, and fanout fails, while a group is short of records', () => {
    const tally = tallyOf([
      ...joins,
      batch('analytics', 'http:run', 4, []),
      batch('alerts', 'http:run', 2, []),
    ]);
    expect(tally.complete(4)).toBe(false);
    expect(fanoutVerdict(tally, 4).ok).toBe(false);
  });

  it('fails load balancing when the shared group handled a record twice', () => {
    const tally = tallyOf([
      ...joins,
      batch('summarizerA', 'http:run', 4, []),
      batch('summarizerB', 'http:run', 1, []),
    ]);
    const verdict = loadBalancingVerdict(tally, 4);
    expect(verdict.ok).toBe(false);
    expect(verdict.lines.join('\n')).toContain('handled 5 (4 + 1), expected 4');
  });
});
