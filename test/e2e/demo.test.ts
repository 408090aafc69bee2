/**
 * `npm start` as a new user runs it (with --exit so it stops after its report): broker, offline, the seed's
 * four lines through the ingest endpoint, and the fanout and load-balancing report.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/fixtures';
import { uniqueName } from '../helpers/kafka';
import { freePort } from '../helpers/ports';

jest.setTimeout(180000);

function runDemo(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'lab', 'demo', 'start.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

it('shows each fanout group receiving all four seed lines and the shared group splitting them', async () => {
  const run = uniqueName('demo');
  const { code, output } = await runDemo(['--exit'], {
    KAFKA_TOPIC: run,
    KAFKA_DLQ_TOPIC: `${run}-dlq`,
    KAFKA_GROUP_PREFIX: `${run}-`,
    OFFLINE_HTTP_PORT: String(await freePort()),
    OFFLINE_LAMBDA_PORT: String(await freePort()),
  });
  expect(output).toContain(`kafka: topics ready: ${run} (3 partitions, created)`);
  expect(output).toContain('accepted 4, rejected 0');
  expect(output).toContain('Fanout: each of the 2 consumer groups received all 4 records.');
  expect(output).toMatch(
    /Load balancing: group "demo-[0-9a-f]+-summarizers" handled the 4 records once, split between 2 members \(2 \+ 2\)\./,
  );
  expect(code).toBe(0);
});

it('refuses a wrong option with a message and exit code 2', async () => {
  const { code, output } = await runDemo(['--scenario', 'everything'], {});
  expect(code).toBe(2);
  expect(output).toContain('--scenario must be all, fanout or load-balancing');
});
