/**
 * Reads serverless offline's output during a demo run and tallies, per function and consumer group, the
 * records of one ingest request (found by its `source` header) that each function handled.
 */
export interface FunctionTally {
  functionKey: string;
  group: string;
  records: number;
  partitions: Set<string>;
}

const JOINED = /^Kafka \[([^\]]+)\] joined group (\S+): /;

export class DemoTally {
  private readonly byFunction = new Map<string, FunctionTally>();

  constructor(private readonly source: string) {}

  private tallyFor(functionKey: string, group = '?'): FunctionTally {
    let tally = this.byFunction.get(functionKey);
    if (!tally) {
      tally = { functionKey, group, records: 0, partitions: new Set() };
      this.byFunction.set(functionKey, tally);
    }
    return tally;
  }

  observe(line: string): void {
    const joined = JOINED.exec(line.trim());
    if (joined) {
      this.tallyFor(joined[1]!, joined[2]!).group = joined[2]!;
      return;
    }
    if (!line.startsWith('{')) return;
    let entry: { msg?: unknown; function?: unknown; sources?: unknown; partitions?: unknown };
    try {
      entry = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof entry.msg !== 'string' || !entry.msg.endsWith('.batch') || typeof entry.function !== 'string')
      return;
    const sources = (entry.sources ?? {}) as Record<string, number>;
    const ours = sources[this.source] ?? 0;
    if (ours === 0) return;
    const functionName = entry.function;
    const key = [...this.byFunction.keys()].find((k) => functionName === k || functionName.endsWith(`-${k}`));
    const tally = this.tallyFor(key ?? functionName);
    tally.records += ours;
    for (const partition of Object.keys((entry.partitions ?? {}) as object)) tally.partitions.add(partition);
  }

  /** Consumer groups and their member functions, in the order they joined. */
  groups(): Map<string, FunctionTally[]> {
    const groups = new Map<string, FunctionTally[]>();
    for (const tally of this.byFunction.values()) {
      const members = groups.get(tally.group) ?? [];
      members.push(tally);
      groups.set(tally.group, members);
    }
    return groups;
  }

  /** Every group has handled `expected` records between its members. */
  complete(expected: number): boolean {
    const groups = [...this.groups().values()];
    return (
      groups.length > 0 && groups.every((members) => members.reduce((n, m) => n + m.records, 0) >= expected)
    );
  }
}

export interface Verdict {
  ok: boolean;
  lines: string[];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Fanout: a group with one member function must see every record. */
export function fanoutVerdict(tally: DemoTally, expected: number): Verdict {
  const singles = [...tally.groups().entries()].filter(([, members]) => members.length === 1);
  const lines = singles.map(
    ([group, [member]]) =>
      `  ${member!.functionKey.padEnd(14)} group ${group.padEnd(14)} ${String(member!.records).padStart(4)} / ${expected} records   ${[...member!.partitions].sort().join(', ')}`,
  );
  const ok = singles.length >= 2 && singles.every(([, [member]]) => member!.records === expected);
  lines.push(
    ok
      ? `  Fanout: each of the ${singles.length} consumer groups received all ${plural(expected, 'record')}.`
      : `  Fanout did NOT hold: every single-member group should have received ${expected}.`,
  );
  return { ok, lines };
}

/** Load balancing: a group with several member functions handles each record once, split between them. */
export function loadBalancingVerdict(tally: DemoTally, expected: number): Verdict {
  const shared = [...tally.groups().entries()].filter(([, members]) => members.length > 1);
  const lines: string[] = [];
  let ok = shared.length > 0;
  for (const [group, members] of shared) {
    for (const m of members) {
      lines.push(
        `  ${m.functionKey.padEnd(14)} group ${group.padEnd(14)} ${String(m.records).padStart(4)} records   ${[...m.partitions].sort().join(', ') || '(none of this run)'}`,
      );
    }
    const total = members.reduce((n, m) => n + m.records, 0);
    const split = members.map((m) => m.records).join(' + ');
    if (total === expected) {
      lines.push(
        `  Load balancing: group "${group}" handled the ${plural(expected, 'record')} once, split between ${members.length} members (${split}).`,
      );
      if (members.some((m) => m.records === 0)) {
        lines.push(
          "  (One member got none: every record of this run had a key on the other member's partitions.)",
        );
      }
    } else {
      ok = false;
      lines.push(
        `  Load balancing did NOT hold: group "${group}" handled ${total} (${split}), expected ${expected}.`,
      );
    }
  }
  return { ok, lines };
}
