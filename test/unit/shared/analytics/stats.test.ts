import { minuteSeries, topItems } from '../../../../shared/analytics/stats';

describe('topItems', () => {
  it('picks the same top items, in the same order, as a full sort would', () => {
    let seed = 3;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const counts = new Map<string, number>();
    for (let i = 0; i < 5000; i++)
      counts.set(`10.0.${Math.floor(random() * 40)}.${i % 97}`, 1 + Math.floor(random() * 30));
    const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : -1));
    for (const top of [1, 7, 50, 10000]) {
      const panel = topItems('hosts', counts, top);
      expect(panel.unique).toBe(counts.size);
      expect(panel.items.map((i) => [i.key, i.hits])).toEqual(sorted.slice(0, top));
    }
  });

  it('lists every hour of the time distribution in order', () => {
    const panel = topItems(
      'visit_time',
      [
        ['13', 1],
        ['02', 5],
        ['09', 2],
      ],
      2,
    );
    expect(panel.items.map((i) => i.key)).toEqual(['02', '09', '13']);
  });
});

describe('minuteSeries', () => {
  const at = (iso: string) => String(Date.parse(iso) / 1000);
  const series = {
    requests: [
      [at('2026-12-02T10:00:00Z'), 3],
      [at('9999-12-31T23:59:00Z'), 1],
    ] as Array<[string, number]>,
    status4xx: [],
    status5xx: [],
    bytes: [],
  };

  it('ends at the minute it is given (now), however far ahead a point lies', () => {
    const points = minuteSeries(series, 3, Date.parse('2026-12-02T10:01:00Z') / 1000);
    expect(points.map((p) => [p.minute, p.requests])).toEqual([
      ['2026-12-02T09:59:00.000Z', 0],
      ['2026-12-02T10:00:00.000Z', 3],
      ['2026-12-02T10:01:00.000Z', 0],
    ]);
  });

  it('ends at the newest point when given no end (a log read whole)', () => {
    expect(minuteSeries(series, 1).map((p) => p.minute)).toEqual(['9999-12-31T23:59:00.000Z']);
  });
});
