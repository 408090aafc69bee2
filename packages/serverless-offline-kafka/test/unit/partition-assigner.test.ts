import { assignRoundRobin } from '../../src/partition-assigner';

describe('assignRoundRobin', () => {
  it('deals partitions in ascending order to members sorted by id', () => {
    expect(assignRoundRobin({ b: ['t'], a: ['t'] }, { t: [2, 0, 1] })).toEqual({
      a: { t: [0, 2] },
      b: { t: [1] },
    });
  });

  it('gives partitions 0 and 1 to different members, so keys on both are split', () => {
    const result = assignRoundRobin({ m1: ['t'], m2: ['t'] }, { t: [1, 0, 2] });
    expect(result.m1!.t).toContain(0);
    expect(result.m2!.t).toContain(1);
  });

  it('lists a member with nothing when there are more members than partitions', () => {
    expect(assignRoundRobin({ a: ['t'], b: ['t'], c: ['t'] }, { t: [0, 1] })).toEqual({
      a: { t: [0] },
      b: { t: [1] },
      c: {},
    });
  });

  it('assigns a topic only to the members that subscribe to it', () => {
    expect(assignRoundRobin({ a: ['t'], b: ['u'] }, { t: [0, 1], u: [0] })).toEqual({
      a: { t: [0, 1] },
      b: { u: [0] },
    });
  });

  it('assigns every partition exactly once', () => {
    const partitions = Array.from({ length: 12 }, (_, i) => i);
    const result = assignRoundRobin({ a: ['t'], b: ['t'], c: ['t'], d: ['t'], e: ['t'] }, { t: partitions });
    const assigned = Object.values(result).flatMap((m) => m.t ?? []);
    expect(assigned.sort((x, y) => x - y)).toEqual(partitions);
  });
});
