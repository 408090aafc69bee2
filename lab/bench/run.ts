/**
 * `npm run bench [-- <name> ...]`: runs every benchmark in this folder (files named `<name>.bench.ts`) and
 * the workspace packages' own (packages/<package>/bench/<name>.bench.ts), or the ones named, each printing its
 * figures side by side with the reference tool it is measured against.
 * Benchmarks are scripts that print figures; nothing here is a timed test.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../local/common/project-root';
import { benchBrokers, printMachine } from './lib';

export interface Benchmark {
  /** One line: what is measured against what. */
  title: string;
  run(args: string[]): Promise<void>;
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
  // name -> compiled file; a package's benchmark is compiled into its bench/dist by the same build.
  const files = new Map<string, string>();
  const packages = join(projectRoot(), 'packages');
  const folders = [__dirname, ...readdirSync(packages).map((p) => join(packages, p, 'bench', 'dist'))].filter(
    (dir) => existsSync(dir),
  );
  for (const dir of folders) {
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.bench.js'))) {
      files.set(f.replace(/\.bench\.js$/, ''), join(dir, f));
    }
  }
  const available = [...files.keys()].sort();
  const unknown = wanted.filter((w) => !available.includes(w));
  if (unknown.length > 0) {
    console.error(
      `bench: no benchmark named ${unknown.join(', ')}; there are: ${available.join(', ') || '(none)'}`,
    );
    return 2;
  }
  const chosen = wanted.length > 0 ? wanted : available;
  await printMachine();
  // The packages' benchmarks read the broker from KAFKA_BROKERS: the one this project's benchmarks use.
  process.env.KAFKA_BROKERS ||= benchBrokers().join(',');
  for (const name of chosen) {
    const bench = (await import(files.get(name)!)) as { default: Benchmark };
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
