/**
 * `npm run compare [-- --records N] [-- --sns-records N] [-- --brokers kafka,sns,rabbitmq,activemq]`: the
 * same nginx records through every broker available on this machine, measured the same way (SNS with
 * --sns-records of them, by default as many). Prints progress on stderr and
 * the Markdown table on stdout; writes the chart (docs/comparison.svg) and the raw figures
 * (docs/comparison.json). A broker that cannot run here is reported as skipped with the reason.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { projectRoot } from '../../local/common/project-root';
import type { BrokerStarter } from './broker';
import { activemq } from './brokers/activemq';
import { kafka } from './brokers/kafka';
import { rabbitmq } from './brokers/rabbitmq';
import { sns } from './brokers/sns';
import { markdownTable, svgChart, type Outcome } from './report';
import { runScenarios, type ScenarioSizes } from './scenarios';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const STARTERS: Record<string, BrokerStarter> = { kafka, sns, rabbitmq, activemq };

class UsageError extends Error {}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at === -1) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
  return value;
}

function parseArgs(args: string[]) {
  const known = new Set(['--records', '--sns-records', '--brokers', '--chart', '--json']);
  for (const arg of args) {
    if (arg.startsWith('--') && !known.has(arg)) throw new UsageError(`unknown option ${arg}`);
  }
  const count = (name: string, raw: string) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 100 || n > 1_000_000) {
      throw new UsageError(`${name} must be a whole number from 100 to 1000000`);
    }
    return n;
  };
  const records = count('--records', option(args, '--records') ?? process.env.COMPARE_RECORDS ?? '2000');
  // The SNS emulator takes one HTTP request per record each way (about 300 a second): 100,000 take minutes.
  const snsRecords = count('--sns-records', option(args, '--sns-records') ?? String(records));
  const brokers = (option(args, '--brokers') ?? Object.keys(STARTERS).join(','))
    .split(',')
    .map((b) => b.trim().toLowerCase());
  for (const b of brokers) {
    if (!STARTERS[b])
      throw new UsageError(`unknown broker "${b}"; choose from ${Object.keys(STARTERS).join(', ')}`);
  }
  const root = projectRoot();
  return {
    brokers,
    snsRecords,
    sizes: {
      records,
      latencySamples: 200,
      latencyIntervalMs: 5,
      redeliveryRecords: 100,
      restartRecords: 100,
    } satisfies ScenarioSizes,
    chart: resolve(option(args, '--chart') ?? resolve(root, 'docs', 'comparison.svg')),
    json: resolve(option(args, '--json') ?? resolve(root, 'docs', 'comparison.json')),
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const began = Date.now();
  const say = (who: string) => (line: string) =>
    process.stderr.write(
      `[${((Date.now() - began) / 1000).toFixed(1).padStart(5)} s] ${who.padEnd(8)} ${line}\n`,
    );
  const snsNote =
    options.brokers.includes('sns') && options.snsRecords !== options.sizes.records
      ? ` (SNS ${options.snsRecords})`
      : '';
  say('compare')(
    `${options.sizes.records} records${snsNote} through ${options.brokers.join(', ')}; starting the brokers...`,
  );

  // Start every broker at once (they spend that time waiting on their JVMs), then measure one at a time.
  const started = await Promise.all(
    options.brokers.map(async (key) => {
      const starter = STARTERS[key]!;
      const availability = await starter.start(say(starter.name));
      say(starter.name)(availability.ok ? 'ready' : `skipped: ${availability.reason}`);
      return { starter, availability };
    }),
  );

  // Ctrl-C: stop the brokers this run started before leaving.
  process.once('SIGINT', () => {
    say('compare')('interrupted; stopping the brokers...');
    void Promise.allSettled(
      started.map(({ availability }) => availability.ok && availability.broker.stop()),
    ).then(() => process.exit(130));
  });

  const outcomes: Outcome[] = [];
  try {
    for (const { starter, availability } of started) {
      if (!availability.ok) {
        outcomes.push({ name: starter.name, ok: false, reason: availability.reason });
        continue;
      }
      const broker = availability.broker;
      try {
        const sizes = starter === sns ? { ...options.sizes, records: options.snsRecords } : options.sizes;
        const results = await runScenarios(broker, sizes, say(starter.name));
        outcomes.push({ name: starter.name, ok: true, describe: broker.describe(), results });
      } catch (err) {
        outcomes.push({
          name: starter.name,
          ok: false,
          reason: `failed while measuring: ${(err as Error).message}`,
        });
        say(starter.name)(`failed: ${(err as Error).message}`);
      } finally {
        await broker.stop().catch(() => undefined);
        say(starter.name)('stopped');
      }
    }
  } finally {
    for (const { availability } of started.slice(outcomes.length)) {
      if (availability.ok) await availability.broker.stop().catch(() => undefined);
    }
  }

  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GB, Linux ${release()}, Node ${process.version}`;
  const table = markdownTable(outcomes, options.sizes);
  mkdirSync(dirname(options.chart), { recursive: true });
  writeFileSync(
    options.chart,
    svgChart(outcomes, `${options.sizes.records} nginx records per broker${snsNote}`, machine),
  );
  mkdirSync(dirname(options.json), { recursive: true });
  writeFileSync(
    options.json,
    `${JSON.stringify({ when: new Date().toISOString(), machine, sizes: options.sizes, outcomes }, null, 2)}\n`,
  );
  process.stdout.write(`\n${table}\n\nMachine: ${machine}\n`);
  say('compare')(
    `done in ${((Date.now() - began) / 1000).toFixed(0)} s; chart ${options.chart}, figures ${options.json}`,
  );
}

main().catch((err: Error) => {
  if (err instanceof UsageError) {
    console.error(
      `compare: ${err.message}\nusage: npm run compare -- [--records N] [--sns-records N] [--brokers kafka,sns,rabbitmq,activemq] [--chart file.svg] [--json file.json]`,
    );
    process.exit(2);
  }
  console.error(`compare: ${err.message}`);
  process.exit(1);
});
