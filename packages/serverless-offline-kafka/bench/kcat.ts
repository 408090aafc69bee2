/**
 * kcat reading a topic from its beginning to the end of every partition: the reference reader of the
 * benchmark, and the record counter of the tests (which add an isolation level and an output format).
 */
export function kcatReadArgs(brokers: readonly string[], topic: string, ...extra: string[]): string[] {
  return ['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', ...extra];
}
