/**
 * What the AWS code costs a function: each function bundled by esbuild with serverless.yml's
 * `custom.esbuild` settings, the AWS SDK bundled (as deployed) beside `@aws-sdk/*` external (the SDK the
 * Lambda runtime ships), with the bundle's size and the time a fresh Node takes to `require` it (best of
 * five, each in its own process, as a cold start loads it).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { projectRoot } from '../../local/common/project-root';
import type { Benchmark } from './run';
import { table } from './lib';

const run = promisify(execFile);
const ROOT = projectRoot();
const FUNCTIONS = ['ingest', 'analytics'];
const RUNS = 5;

/** Milliseconds a fresh Node process spends in `require(file)`. */
async function requireMs(file: string): Promise<number> {
  const probe = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});console.log(Number(process.hrtime.bigint()-t)/1e6)`;
  const { stdout } = await run(process.execPath, ['-e', probe], { timeout: 60000 });
  return Number(stdout.trim());
}

async function measure(fn: string, external: string[], dir: string): Promise<[string, string]> {
  const outfile = join(dir, `${fn}-${external.length}.js`);
  // serverless.yml custom.esbuild: bundle, no minify, linked source map, node20, cjs.
  await build({
    entryPoints: [join(ROOT, 'functions', `${fn}.ts`)],
    outfile,
    bundle: true,
    minify: false,
    sourcemap: 'linked',
    target: 'node20',
    platform: 'node',
    format: 'cjs',
    external,
    logLevel: 'error',
  });
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await requireMs(outfile));
  return [`${(statSync(outfile).size / 1e6).toFixed(2)} MB`, `${Math.min(...times).toFixed(0)} ms`];
}

const bench: Benchmark = {
  title: 'Lambda bundles with the AWS SDK bundled (as deployed) beside @aws-sdk/* external',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'nks-bundle-'));
    try {
      const rows: Array<Array<string>> = [
        ['function', 'bundle', 'size', `\`require\` time (best of ${RUNS})`],
      ];
      for (const fn of FUNCTIONS) {
        rows.push([fn, 'SDK bundled (as deployed)', ...(await measure(fn, [], dir))]);
        rows.push([fn, '`@aws-sdk/*` external', ...(await measure(fn, ['@aws-sdk/*'], dir))]);
      }
      console.log(table(rows));
      console.log(
        `\nload average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')} while measuring`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export = bench;
