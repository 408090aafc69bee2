/**
 * The shipper CLI as a user runs it: whole files to the real broker (one record per line, as the file holds it),
 * custom log formats, checkpoints across runs, the ingest HTTP endpoint, and the mistakes it must refuse with
 * a message and a non-zero exit.
 */
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyResult, Context } from 'aws-lambda';
import { disconnectSharedProducer } from '../../shared/kafka/producer';
import { DLQ_HEADER, HEADER, decodeRecordValue } from '../../shared/record/contract';
import { loadRdkafka } from '../../tools/ship/kafka-clients';
import { fixtureLines, ROOT } from '../helpers/fixtures';
import { createTopics, header, readTopic, uniqueName, type ReadMessage } from '../helpers/kafka';
import { settledRecordCount } from '../helpers/quiescence';
import { freePort } from '../helpers/ports';
import { runShipper, shipOnce } from '../helpers/ship';
import { waitFor } from '../helpers/wait';

jest.setTimeout(60000);

const dir = mkdtempSync(join(tmpdir(), 'ship-cli-'));
const realLines = fixtureLines('nginx/real-nginx-1.22.log');

async function topicPair(): Promise<{ topic: string; dlq: string; env: NodeJS.ProcessEnv }> {
  const topic = uniqueName('ship-cli');
  const dlq = `${topic}-dlq`;
  await createTopics([
    { topic, partitions: 3 },
    { topic: dlq, partitions: 1 },
  ]);
  return { topic, dlq, env: { KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: dlq } };
}

describe('shipping whole files', () => {
  it('produces one record per line of the file, raw bytes kept and keyed by client address, dead-letters the bad line, and resumes from its checkpoint', async () => {
    const { topic, dlq, env } = await topicPair();
    const log = join(dir, 'access.log');
    const bad = 'not an nginx line';
    writeFileSync(log, `${realLines.join('\n')}\n${bad}\n`);
    const checkpoint = join(dir, 'checkpoint.json');

    const first = await shipOnce([log, '--checkpoint-file', checkpoint], env);
    expect(first.output).toContain(`ship: read ${realLines.length + 1} lines`);
    expect(first.output).toMatch(new RegExp(`sent ${realLines.length} to ${topic}; rejected 1 to ${dlq}`));
    expect(first.code).toBe(0);

    // Expected from the file itself: one record per nginx line, its raw bytes kept, keyed by the line's
    // first field (the client address).
    const records = await readTopic(topic, realLines.length);
    expect(await settledRecordCount(topic)).toBe(realLines.length);
    const fileLines = readFileSync(log, 'utf8').split('\n').slice(0, realLines.length);
    expect(records.map((r) => decodeRecordValue(r.value!).raw).sort()).toEqual([...fileLines].sort());
    for (const record of records) {
      const raw = decodeRecordValue(record.value!).raw;
      expect(record.key!.toString()).toBe(raw.slice(0, raw.indexOf(' ')));
      expect(header(record, HEADER.source)).toBe(`file:${log}`);
      expect(header(record, HEADER.logFormat)).toBe('combined');
    }
    const [letter] = await readTopic(dlq, 1);
    expect(await settledRecordCount(dlq)).toBe(1);
    expect(letter!.value!.toString()).toBe(bad);
    const offset = Buffer.byteLength(`${realLines.join('\n')}\n`);
    expect(header(letter!, DLQ_HEADER.position)).toBe(`byte ${offset}`);
    expect(header(letter!, DLQ_HEADER.source)).toBe(`file:${log}`);

    // A second run starts where the first one's acknowledged lines end.
    appendFileSync(log, `${realLines[0]}\n`);
    const second = await shipOnce([log, '--checkpoint-file', checkpoint], env);
    expect(second.output).toMatch(/ship: read 1 lines .* sent 1 to /);
    expect(second.code).toBe(0);
  });

  // Where @confluentinc/kafka-javascript was built on install (elsewhere --client rdkafka ships with kafkajs).
  const withRdkafka = typeof loadRdkafka() === 'string' ? it.skip : it;
  withRdkafka(
    '--client rdkafka writes the records kafkajs writes: same keys, values, headers and partitions',
    async () => {
      const log = join(dir, 'both-clients.log');
      writeFileSync(log, `${realLines.join('\n')}\nnot an nginx line\n`);
      /** Each record as the comparison sees it: the dead letter's time header is the moment it was made. */
      const view = (m: ReadMessage) =>
        JSON.stringify([
          m.partition,
          m.key?.toString(),
          m.value?.toString(),
          Object.entries(m.headers ?? {})
            .filter(([name]) => name !== DLQ_HEADER.time)
            .map(([name, value]) => [name, value?.toString()]),
        ]);
      const shipped: Record<string, { records: string[]; letters: string[] }> = {};
      for (const client of ['kafkajs', 'rdkafka']) {
        const { topic, dlq, env } = await topicPair();
        const run = await shipOnce([log, '--client', client], { ...env, LOG_LEVEL: 'warn' });
        expect(run.output).not.toContain('ship.client');
        expect(run.code).toBe(0);
        shipped[client] = {
          records: (await readTopic(topic, realLines.length)).map(view).sort(),
          letters: (await readTopic(dlq, 1)).map(view),
        };
        expect(await settledRecordCount(topic)).toBe(realLines.length);
      }
      expect(shipped.rdkafka!.records).toHaveLength(realLines.length);
      expect(shipped.rdkafka).toEqual(shipped.kafkajs);
    },
  );

  it('reads an escape=json log_format from a file, several files from a glob', async () => {
    const { topic, env } = await topicPair();
    const formatFile = join(dir, 'format.conf');
    writeFileSync(
      formatFile,
      `log_format edge escape=json\n  '{"t":"$time_iso8601","ip":"$remote_addr","req":"$request",'\n  '"status":$status,"bytes":$body_bytes_sent,"rt":"$request_time"}';\n`,
    );
    const line = (n: number) =>
      `{"t":"2026-12-01T10:00:0${n}+00:00","ip":"10.0.0.${n}","req":"GET /j/${n} HTTP/1.1","status":200,"bytes":${n},"rt":"0.00${n}"}`;
    writeFileSync(join(dir, 'json-a.log'), `${line(1)}\n${line(2)}\n`);
    writeFileSync(join(dir, 'json-b.log'), `${line(3)}\n`);

    const run = await shipOnce([join(dir, 'json-?.log'), '--format-file', formatFile], env);
    expect(run.output).toMatch(/read 3 lines .* from 2 files.* sent 3 to /);
    expect(run.code).toBe(0);
    const records = await readTopic(topic, 3);
    const values = records
      .map((r) => decodeRecordValue(r.value!))
      .sort((a, b) => a.bodyBytesSent - b.bodyBytesSent);
    expect(values.map((v) => [v.remoteAddr, v.path, v.status, v.extra?.request_time])).toEqual([
      ['10.0.0.1', '/j/1', 200, '0.001'],
      ['10.0.0.2', '/j/2', 200, '0.002'],
      ['10.0.0.3', '/j/3', 200, '0.003'],
    ]);
    expect(header(records[0]!, HEADER.logFormat)).toBe('edge');
  });
});

describe('shipping through the ingest HTTP endpoint', () => {
  let server: Server;
  let url: string;
  let topics: Awaited<ReturnType<typeof topicPair>>;
  let down = false;
  let refused = 0;

  const savedEnv = { KAFKA_TOPIC: process.env.KAFKA_TOPIC, KAFKA_DLQ_TOPIC: process.env.KAFKA_DLQ_TOPIC };

  beforeAll(async () => {
    topics = await topicPair();
    process.env.KAFKA_TOPIC = topics.topic;
    process.env.KAFKA_DLQ_TOPIC = topics.dlq;
    // The ingest handler itself, behind a minimal HTTP front that builds API Gateway's event.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { handler } = require('../../functions/ingest') as typeof import('../../functions/ingest');
    /* eslint-enable @typescript-eslint/no-require-imports */
    server = createServer((req, res) => {
      if (down) {
        refused++;
        req.resume();
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"Kafka is unavailable"}');
        return;
      }
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', async () => {
        const event = {
          version: '2.0',
          rawPath: req.url,
          headers: { 'content-type': String(req.headers['content-type']) },
          requestContext: { http: { method: req.method } },
          body,
          isBase64Encoded: false,
        } as unknown as APIGatewayProxyEventV2;
        const result = (await handler(event, {
          awsRequestId: uniqueName('req'),
        } as Context)) as APIGatewayProxyResult;
        res.writeHead(result.statusCode, { 'content-type': 'application/json' }).end(result.body);
      });
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    url = `http://127.0.0.1:${port}/ingest`;
  });

  afterAll(async () => {
    server?.close();
    await disconnectSharedProducer();
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('posts batches to the endpoint and counts what it accepted and dead-lettered', async () => {
    const log = join(dir, 'http.log');
    writeFileSync(log, `${realLines.slice(0, 5).join('\n')}\nbad line\n`);
    const run = await shipOnce([log, '--to', url, '--batch-size', '2']);
    expect(run.output).toMatch(/read 6 lines .* sent 5 to http:\/\/127\.0\.0\.1:\d+\/ingest; rejected 1 to /);
    expect(run.code).toBe(0);
    const records = await readTopic(topics.topic, 5);
    expect(header(records[0]!, HEADER.source)).toMatch(/^http:/);
  });

  describe('backpressure', () => {
    it('stops reading while the destination is down and resumes when it is back', async () => {
      const log = join(dir, 'backpressure.log');
      writeFileSync(log, `${Array.from({ length: 2000 }, () => realLines[0]).join('\n')}\n`);
      down = true;
      refused = 0;
      const run = runShipper([log, '--to', url, '--batch-size', '100', '--progress']);
      // Three refusals (retries after 0.5, 1 and 2 s) and progress lines printed meanwhile.
      await waitFor(
        () => refused >= 4 && /lines read/.test(run.output()),
        'the shipper to be refused and retry',
        30000,
      );
      const readWhileDown = Math.max(
        ...[...run.output().matchAll(/ship: ([\d,]+) lines read/g)].map((m) =>
          Number(m[1]!.replace(/,/g, '')),
        ),
      );
      // The batch that was refused and the next one: nothing more is read while the destination is down.
      expect(readWhileDown).toBeLessThanOrEqual(200);
      expect(run.output()).toContain('"msg":"ship.send_retry"');
      down = false;
      expect(await run.exit).toBe(0);
      expect(run.output()).toMatch(/read 2,000 lines .* sent 2,000 to .* retries [3-9]/);
    });
  });
});

describe('mistakes are refused with a message and a non-zero exit', () => {
  const log = join(dir, 'one.log');
  beforeAll(() => writeFileSync(log, `${realLines[0]}\n`));

  it.each([
    [['--bogus', 'x'], 2, "Unknown option '--bogus'"],
    [[], 2, 'name at least one access log'],
    [['LOG', '--batch-size', '0'], 2, '--batch-size "0" is not a whole number'],
    [['LOG', '--format', '$remote_addr [$time_local] $'], 2, '--format: log_format at column 28'],
    [['LOG', '--format', '$remote_addr $status'], 2, 'the format has no time'],
    [['LOG', '--to', 'not a url'], 2, 'is not a URL'],
    [
      ['LOG', '--to', 'http://127.0.0.1:1/ingest', '--format', '$remote_addr $msec'],
      2,
      'combined format only',
    ],
    [[join(ROOT, 'no', 'such.log')], 1, 'no such file'],
    [[join(ROOT, 'no', '*.log')], 2, 'no file matches'],
    [[join(ROOT, 'test')], 1, 'not a regular file'],
  ])('%j', async (args, code, message) => {
    const run = await shipOnce(args.map((a) => (a === 'LOG' ? log : a)));
    expect(run.output).toContain(message);
    expect(run.output).not.toMatch(/\n\s+at /);
    expect(run.code).toBe(code);
  });

  it('an unreachable broker', async () => {
    const run = await shipOnce([log], { KAFKA_BROKERS: `127.0.0.1:${await freePort()}` });
    expect(run.output).toContain('ship: cannot reach Kafka at 127.0.0.1:');
    expect(run.output).toContain('npm run kafka:start');
    expect(run.code).toBe(1);
  });

  it('a topic that does not exist', async () => {
    // The dead-letter topic exists, so the refusal names only the missing one.
    const { dlq } = await topicPair();
    const run = await shipOnce([log], { KAFKA_TOPIC: uniqueName('missing'), KAFKA_DLQ_TOPIC: dlq });
    expect(run.output).toMatch(/topic missing-\w+ does not exist/);
    expect(run.code).toBe(1);
  });

  it('an unreachable ingest endpoint', async () => {
    const run = await shipOnce([log, '--to', `http://127.0.0.1:${await freePort()}/ingest`]);
    expect(run.output).toContain('cannot reach the ingest endpoint');
    expect(run.code).toBe(1);
  });
});
