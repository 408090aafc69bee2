/**
 * Builds the shipper's optional librdkafka client, @confluentinc/kafka-javascript, from the librdkafka source it
 * bundles, linked against the system's OpenSSL and zlib. Run by the project's `prepare` script on
 * `npm install` / `npm ci`, and by `npm run build:rdkafka`.
 *
 * Why not the package's own install script (package.json `allowScripts` turns it off): it first downloads a
 * prebuilt binary from GitHub, then falls back to a static build that downloads the sources of OpenSSL, zlib,
 * zstd and curl, and only reads `CKJS_LINKING=dynamic` (build against the system's libraries instead) from its
 * environment, which a package.json cannot set for a dependency. Here that environment is set for one
 * `node-gyp rebuild` in the package's folder.
 *
 * Optional by design: when the package is absent (`--omit=optional`), already built, or cannot be built (no C
 * compiler, no OpenSSL headers), this says so in one line and exits 0; the shipper then uses kafkajs and
 * says why (tools/ship/kafka-clients.ts).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const RDKAFKA_PACKAGE = '@confluentinc/kafka-javascript';
const BINARY = join('build', 'Release', 'confluent-kafka-javascript.node');
const NEEDS = 'apt-get install build-essential python3 libssl-dev zlib1g-dev';

/** The environment of the build: dynamic linking, and the running node's own headers when installed. */
export function buildEnvironment(env: NodeJS.ProcessEnv, execPath: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, CKJS_LINKING: env.CKJS_LINKING || 'dynamic' };
  const prefix = dirname(dirname(execPath));
  if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_version.h'))) {
    out.npm_config_nodedir = prefix;
  }
  return out;
}

/** node-gyp: the one npm runs scripts with, else one on the PATH. */
function nodeGyp(env: NodeJS.ProcessEnv): string[] {
  const bundled = env.npm_config_node_gyp;
  return bundled && existsSync(bundled) ? [process.execPath, bundled] : ['node-gyp'];
}

function main(): number {
  // The node_modules folders this file resolves packages from, nearest first.
  const modules = module.paths.find((m) =>
    existsSync(join(m, ...RDKAFKA_PACKAGE.split('/'), 'package.json')),
  );
  if (modules === undefined) {
    console.log(`build-rdkafka: ${RDKAFKA_PACKAGE} is not installed (optional): the shipper uses kafkajs`);
    return 0;
  }
  const dir = join(modules, ...RDKAFKA_PACKAGE.split('/'));
  if (existsSync(join(dir, BINARY)) && !process.argv.includes('--force')) {
    console.log(`build-rdkafka: ${RDKAFKA_PACKAGE} is built (--force builds it again)`);
    return 0;
  }
  const logDir = join(modules, '.cache');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, 'build-rdkafka.log');
  console.log(
    `build-rdkafka: building librdkafka for the shipper's optional client (a few minutes on 2 cores; log: ${logFile})`,
  );
  const started = Date.now();
  const log = openSync(logFile, 'w');
  const env = buildEnvironment(process.env, process.execPath);
  const [command, ...args] = nodeGyp(env);
  const run = spawnSync(command!, [...args, 'rebuild'], { cwd: dir, env, stdio: ['ignore', log, log] });
  closeSync(log);
  const seconds = Math.round((Date.now() - started) / 1000);
  if (run.status === 0 && existsSync(join(dir, BINARY))) {
    console.log(`build-rdkafka: built in ${seconds} s (--client rdkafka)`);
    return 0;
  }
  console.log(
    `build-rdkafka: not built after ${seconds} s (${run.error?.message ?? `exit ${run.status}`}; see ${logFile}). ` +
      `The shipper uses kafkajs. To have the librdkafka client: ${NEEDS}, then npm run build:rdkafka`,
  );
  return 0;
}

if (require.main === module) process.exitCode = main();
