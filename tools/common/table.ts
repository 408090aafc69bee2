/** A Markdown table (the first row is the header), printed by the operators' commands and the benchmarks. */
export function table(rows: Array<Array<string | number>>): string {
  const text = rows.map((r) => r.map(String));
  const widths = text[0]!.map((_, i) => Math.max(...text.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(text[0]!),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...text.slice(1).map(line),
  ].join('\n');
}
