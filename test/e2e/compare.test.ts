/**
 * `npm run compare` as a user runs it (from the build), on the broker that needs nothing installed: the SNS
 * emulator. The other brokers run the same scenarios; this checks the tool itself end to end.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/fixtures';
import { freePort } from '../helpers/ports';

jest.setTimeout(120000);

const run = promisify(execFile);
const CLI = join(ROOT, 'dist', 'lab', 'compare', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'compare-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('measures SNS (with --sns-records) and prints the table, the chart and the figures', async () => {
  const { stdout, stderr } = await run(
    process.execPath,
    [
      CLI,
      '--brokers',
      'sns',
      '--records',
      '1000',
      '--sns-records',
      '200',
      '--chart',
      join(dir, 'c.svg'),
      '--json',
      join(dir, 'c.json'),
    ],
    { env: { ...process.env, COMPARE_SNS_PORT: String(await freePort()) } },
  );
  expect(stderr).toMatch(/SNS +throughput: sent 200\/200/);
  expect(stdout).toContain('| Criterion | SNS |');
  // --sns-records: SNS ran 200 of the 1,000 records the other brokers would, and the table says so.
  expect(stdout).toMatch(
    /\| Throughput, end to end \(1,000 records, 1 consumer\) \| [\d,]+ records\/s \(200 records\) \|/,
  );
  expect(stdout).toContain('| Not received / duplicated (throughput run) | 0 / 0 |');
  expect(stdout).toContain('| Unacknowledged records redelivered to a restarted consumer | 0 of 50 |');
  // The control for "0 of 50": the same subscriber received all 100 records and acknowledged half, so the
  // zero is SNS not redelivering, not a subscriber that never received anything.
  expect(stderr).toMatch(/redelivery: first consumer acknowledged 50 of 100 and stopped/);
  expect(stdout).toContain('| Unconsumed records that survive a broker restart | 0 of 100 |');
  const figures = JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8')) as {
    outcomes: Array<{ ok: boolean; results: { throughput: { received: number } } }>;
  };
  expect(figures.outcomes[0]!.results.throughput.received).toBe(200);
  expect(readFileSync(join(dir, 'c.svg'), 'utf8')).toMatch(/^<svg[\s\S]*SNS[\s\S]*<\/svg>\n$/);
});

it.each([
  [['--records', '5'], /--records must be a whole number/],
  [['--sns-records', '5'], /--sns-records must be a whole number/],
  [['--brokers', 'nats'], /unknown broker "nats"/],
  [['--fast'], /unknown option --fast/],
])('refuses %j with a usage message and exit code 2', async (args, message) => {
  const failure = (await run(process.execPath, [CLI, ...args]).catch((err: unknown) => err)) as {
    code: number;
    stderr: string;
  };
  expect(failure.code).toBe(2);
  expect(failure.stderr).toMatch(message);
  expect(failure.stderr).toContain('usage: npm run compare');
});
