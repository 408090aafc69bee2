/**
 * `npm start`: the local broker, every function under `serverless offline`, the sample log streamed through
 * the ingest endpoint, and a report of what each consumer group received: fanout groups each get every
 * record, the shared group's members split them. Then it keeps running for more traffic until Ctrl-C.
 *
 *   --scenario all|fanout|load-balancing   what to report (default all)
 *   --file <path>                          the log to send (default events/access.log, the seed's four lines)
 *   --exit                                 stop after the report; exit 1 if the report does not hold
 *   --verbose                              print everything serverless offline prints
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startAndCreateTopics } from '../../local/kafka/cli';
import { LauncherError } from '../../local/kafka/launcher';
import { ensureRedis } from '../../local/redis/cli';
import { RedisLauncherError } from '../../local/redis/launcher';
import { projectRoot } from '../../local/common/project-root';
import { splitLines } from '../../shared/ingest/request';
import { isServerReady, startOffline, type RunningOffline } from './offline';
import { DemoTally, fanoutVerdict, loadBalancingVerdict, type Verdict } from './tally';

const say = (line: string) => console.log(`demo: ${line}`);

type Scenario = 'all' | 'fanout' | 'load-balancing';

function options() {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'all' },
      file: { type: 'string', default: 'events/access.log' },
      exit: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '90' },
    },
  });
  const scenario = values.scenario as Scenario;
  if (!['all', 'fanout', 'load-balancing'].includes(scenario)) {
    throw new UsageError(`--scenario must be all, fanout or load-balancing, not ${values.scenario}`);
  }
  const timeoutS = Number(values.timeout);
  if (!(timeoutS > 0)) throw new UsageError(`--timeout must be a number of seconds, not ${values.timeout}`);
  return { ...values, scenario, timeoutMs: timeoutS * 1000 };
}

class UsageError extends Error {}

function readLog(file: string): string[] {
  try {
    return splitLines(readFileSync(file, 'utf8')).filter((l) => l.trim().length > 0);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

function interesting(line: string): boolean {
  return line.startsWith('Kafka [') || isServerReady(line) || /\b(error|Error|ERROR)\b/.test(line);
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (done()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return done();
}

async function main(): Promise<number> {
  const opts = options();
  const root = projectRoot();
  const file = resolve(root, opts.file);
  const lines = readLog(file);
  if (lines.length === 0) throw new UsageError(`${opts.file} has no lines to send`);

  const brokers = await startAndCreateTopics();
  const redisUrl = await ensureRedis();
  const httpPort = Number(process.env.OFFLINE_HTTP_PORT || 3000);
  const lambdaPort = Number(process.env.OFFLINE_LAMBDA_PORT || 3002);

  let reported = false;
  say('starting serverless offline (bundling the functions, joining the consumer groups)...');
  const offline: RunningOffline = startOffline({
    cwd: root,
    // The report is read from the functions' info lines.
    env: {
      KAFKA_BROKERS: brokers.join(','),
      REDIS_URL: redisUrl,
      LOG_LEVEL: process.env.LOG_LEVEL === 'debug' ? 'debug' : 'info',
    },
    httpPort,
    lambdaPort,
    onLine: (line) => {
      if (opts.verbose || reported || interesting(line)) console.log(`offline: ${line}`);
    },
  });
  const stopOffline = async () => {
    const code = await offline.stop();
    return code;
  };
  process.once('SIGINT', () => void stopOffline().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stopOffline().then(() => process.exit(0)));

  await offline.waitFor(isServerReady, 120000, 'the HTTP server');

  const response = await fetch(`${offline.url}/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: `${lines.join('\n')}\n`,
  });
  const body = (await response.json()) as {
    source?: string;
    accepted?: number;
    rejected?: number;
    error?: string;
  };
  if (!response.ok || !body.source) {
    await stopOffline();
    throw new Error(`POST /ingest answered ${response.status}: ${JSON.stringify(body)}`);
  }
  const accepted = body.accepted ?? 0;
  say(
    `POST ${offline.url}/ingest ← ${opts.file} (${lines.length} lines): accepted ${accepted}, rejected ${body.rejected}`,
  );
  const tally = new DemoTally(body.source);
  let read = 0;
  const observeNewLines = () => {
    for (; read < offline.lines.length; read++) tally.observe(offline.lines[read]!);
  };

  say(`waiting until every consumer group has handled the ${accepted} records...`);
  const finished = await waitUntil(() => {
    observeNewLines();
    return tally.complete(accepted);
  }, opts.timeoutMs);

  const verdicts: Verdict[] = [];
  if (opts.scenario !== 'load-balancing') verdicts.push(fanoutVerdict(tally, accepted));
  if (opts.scenario !== 'fanout') verdicts.push(loadBalancingVerdict(tally, accepted));
  console.log('');
  for (const v of verdicts) console.log(`${v.lines.join('\n')}\n`);
  const ok = finished && verdicts.every((v) => v.ok);
  if (!finished) say(`not every group finished within ${opts.timeoutMs / 1000} s`);
  reported = true;

  if (opts.exit) {
    await stopOffline();
    return ok ? 0 : 1;
  }
  say(`live traffic dashboard: ${offline.url}/dashboard (panels as JSON: ${offline.url}/stats)`);
  say(`still running: POST more lines to ${offline.url}/ingest, Ctrl-C to stop. For example:`);
  say(`  curl -X POST -H 'content-type: text/plain' --data-binary @events/access.log ${offline.url}/ingest`);
  const code = await new Promise<number | null>((r) => offline.child.once('exit', r));
  return code ?? 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const known =
      err instanceof UsageError || err instanceof LauncherError || err instanceof RedisLauncherError;
    console.error(`demo: ${known ? (err as Error).message : (err as Error).stack}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
