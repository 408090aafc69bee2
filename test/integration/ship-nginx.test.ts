/**
 * The shipper following the access log of a real nginx while the test sends it requests: log rotation by
 * rename + reopen and by copytruncate in the middle of the traffic, and the shipper killed with SIGKILL and
 * started again. Every line nginx wrote must be in the topic; a line may be there twice only if it was in
 * a batch that was in flight when the shipper died (sent, not acknowledged yet, so not in the checkpoint):
 * at most one batch with kafkajs, RDKAFKA_IN_FLIGHT batches with librdkafka. The shipper's default client
 * is used; SHIP_TEST_CLIENT=<name> runs the cases with another.
 */
import { copyFileSync, existsSync, mkdtempSync, renameSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEADER } from '../../shared/record/contract';
import { RDKAFKA_IN_FLIGHT } from '../../tools/ship/kafka-clients';
import { createTopics, header, uniqueName } from '../helpers/kafka';
import { lineCount, startNginx, type RunningNginx } from '../helpers/nginx';
import { runShipper, tally, topicCollector, waitForOutput, type ShipperProcess } from '../helpers/ship';
import { waitFor } from '../helpers/wait';

jest.setTimeout(120000);

const BATCH = 25;
let nginx: RunningNginx;
let sent = 0;
/** Every shipper a case started, so that a failed case leaves none running. */
const shippers: ShipperProcess[] = [];

beforeEach(async () => {
  nginx = await startNginx();
  sent = 0;
});

afterEach(async () => {
  for (const run of shippers.splice(0)) if (run.child.exitCode === null) await kill9(run);
  await nginx?.stop();
});

/** `count` requests, two at a time; `during` runs once `at` of them were answered. */
async function traffic(count: number, at?: number, during?: () => void | Promise<void>): Promise<void> {
  let next = 0;
  let done = 0;
  let fired: Promise<void> | undefined;
  const worker = async () => {
    while (next < count) {
      next++;
      const n = ++sent;
      expect(await nginx.get(`/item/${n}?run=${n}`)).toBe(200);
      done++;
      if (during && at !== undefined && done === at) fired = Promise.resolve(during());
    }
  };
  await Promise.all([worker(), worker()]);
  await fired;
}

async function topics(): Promise<{ topic: string; env: NodeJS.ProcessEnv }> {
  const topic = uniqueName('ship');
  await createTopics([
    { topic, partitions: 3 },
    { topic: `${topic}-dlq`, partitions: 1 },
  ]);
  return { topic, env: { KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: `${topic}-dlq` } };
}

function follow(env: NodeJS.ProcessEnv, checkpoint: string): ShipperProcess {
  const run = runShipper(
    [
      nginx.accessLog,
      '--follow',
      '--checkpoint-file',
      checkpoint,
      '--batch-size',
      String(BATCH),
      '--batch-ms',
      '50',
      '--poll-ms',
      '50',
      ...(process.env.SHIP_TEST_CLIENT ? ['--client', process.env.SHIP_TEST_CLIENT] : []),
    ],
    env,
  );
  shippers.push(run);
  return run;
}

/**
 * The batches a shipper killed with -9 can have sent without their acknowledgement in its checkpoint, which
 * its restart sends again: the batches its client has in flight (read from the client it named at start).
 */
function batchesInFlight(run: ShipperProcess): number {
  return /"msg":"ship.started"[^\n]*"client":"rdkafka"/.test(run.output()) ? RDKAFKA_IN_FLIGHT : 1;
}

async function started(run: ShipperProcess): Promise<ShipperProcess> {
  await waitForOutput(run, /"msg":"ship.started"/, 'the shipper to start');
  return run;
}

function kill9(run: ShipperProcess): Promise<number | null> {
  run.child.kill('SIGKILL');
  return run.exit;
}

/** Every line nginx wrote is in the topic; those of the batches in flight at the kill may be there twice. */
async function expectEveryLineOnce(topic: string, files: string[], killed: ShipperProcess): Promise<void> {
  const written = files.filter(existsSync).reduce((sum, f) => sum + lineCount(f), 0);
  expect(written).toBe(sent);
  const collector = await topicCollector(topic);
  try {
    await waitFor(
      () => tally(collector.messages).distinct.size >= written,
      `${written} distinct records on ${topic}`,
      60000,
    );
    const { distinct, duplicates } = tally(collector.messages);
    expect(distinct.size).toBe(written);
    expect(duplicates).toBeLessThanOrEqual(BATCH * batchesInFlight(killed));
    for (let n = 1; n <= sent; n++)
      expect([...distinct].some((raw) => raw.includes(`/item/${n}?`))).toBe(true);
    expect(header(collector.messages[0]!, HEADER.source)).toBe(`file:${nginx.accessLog}`);
  } finally {
    await collector.stop();
  }
}

async function stopShipper(run: ShipperProcess): Promise<void> {
  run.child.kill('SIGTERM');
  expect(await run.exit).toBe(0);
  expect(run.output()).toMatch(/ship: read [\d,]+ lines .* rejected 0 to /);
}

it('follows nginx through rename + reopen rotation and a kill -9 restart without losing a line', async () => {
  const { topic, env } = await topics();
  const checkpoint = join(mkdtempSync(join(tmpdir(), 'ship-ckpt-')), 'checkpoint.json');
  const rotated = `${nginx.accessLog}.1`;

  let shipper = await started(follow(env, checkpoint));
  const killed = shipper;
  await traffic(150, 60, () => {
    renameSync(nginx.accessLog, rotated);
    nginx.reopen();
  });
  await waitFor(() => existsSync(nginx.accessLog), 'nginx to reopen its access log');

  // SIGKILL in the middle of the traffic, then a restart from the checkpoint.
  await traffic(150, 50, async () => {
    expect(await kill9(shipper)).toBeNull();
  });
  expect(shipper.output()).toContain('"msg":"ship.rotated"');
  await traffic(50);
  // Rotated again while the shipper is down: the restart finds the file it was reading by its inode.
  renameSync(nginx.accessLog, `${nginx.accessLog}.2`);
  nginx.reopen();
  await waitFor(() => existsSync(nginx.accessLog), 'nginx to reopen its access log');
  await traffic(25);
  shipper = await started(follow(env, checkpoint));
  await traffic(50);

  await expectEveryLineOnce(topic, [rotated, `${nginx.accessLog}.2`, nginx.accessLog], killed);
  await stopShipper(shipper);
});

it('follows nginx through copytruncate rotations, live and while the shipper was killed', async () => {
  const { topic, env } = await topics();
  const checkpoint = join(mkdtempSync(join(tmpdir(), 'ship-ckpt-')), 'checkpoint.json');
  const copy = (n: number) => {
    // As logrotate's copytruncate does; traffic is paused so no line falls between the copy and the truncation.
    copyFileSync(nginx.accessLog, `${nginx.accessLog}.${n}`);
    truncateSync(nginx.accessLog, 0);
  };

  let shipper = await started(follow(env, checkpoint));
  const killed = shipper;
  await traffic(120);
  copy(1);
  await traffic(120);
  await waitForOutput(shipper, /"msg":"ship.truncated"/, 'the shipper to notice the truncation');

  await kill9(shipper);
  await traffic(60);
  copy(2);
  await traffic(30);
  shipper = await started(follow(env, checkpoint));
  await traffic(30);

  await expectEveryLineOnce(topic, [`${nginx.accessLog}.1`, `${nginx.accessLog}.2`, nginx.accessLog], killed);
  // Restarted on a truncated file, it found the copy by the bytes before its checkpoint and read the rest there.
  expect(shipper.output()).toMatch(/"msg":"ship.truncated"[^\n]*"copy":"[^"]*access\.log\.2"/);
  if (process.env.SHIP_TEST_DEBUG) console.log(shipper.output());
  await stopShipper(shipper);
});
