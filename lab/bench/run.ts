/**
 * `npm run bench [-- <name> ...]`: runs every benchmark in this folder (files named `<name>.bench.ts`), or
 * the ones named, each printing its figures side by side with the reference tool it is measured against.
 * Benchmarks are scripts that print figures; nothing here is a timed test.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { printMachine } from './lib';

export interface Benchmark {
  /** One line: what is measured against what. */
  title: string;
  run(args: string[]): Promise<void>;
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
  const available = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.js'))
    .map((f) => f.replace(/\.bench\.js$/, ''))
    .sort();
  const unknown = wanted.filter((w) => !available.includes(w));
  if (unknown.length > 0) {
    console.error(
      `bench: no benchmark named ${unknown.join(', ')}; there are: ${available.join(', ') || '(none)'}`,
    );
    return 2;
  }
  const chosen = wanted.length > 0 ? wanted : available;
  await printMachine();
  for (const name of chosen) {
    const bench = (await import(join(__dirname, `${name}.bench.js`))) as { default: Benchmark };
    console.log(`\n## ${name}: ${bench.default.title}\n`);
    await bench.default.run(flags);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
