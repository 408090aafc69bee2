import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandPattern } from '../../../../tools/ship/glob';
import { parseShipArgs, UsageError } from '../../../../tools/ship/options';

const dir = mkdtempSync(join(tmpdir(), 'ship-options-'));
for (const name of ['access.log', 'access.log.1', 'error.log', '.hidden.log'])
  writeFileSync(join(dir, name), '');
mkdirSync(join(dir, 'site-a'));
writeFileSync(join(dir, 'site-a', 'access.log'), '');

function refusal(args: string[]): string {
  try {
    parseShipArgs(args);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error(`expected ${args.join(' ')} to be refused`);
}

describe('expandPattern', () => {
  it('expands *, ? and [...] per path segment, sorted, skipping hidden files', () => {
    expect(expandPattern(join(dir, '*.log'))).toEqual([join(dir, 'access.log'), join(dir, 'error.log')]);
    expect(expandPattern(join(dir, 'access.log.?'))).toEqual([join(dir, 'access.log.1')]);
    expect(expandPattern(join(dir, '[ae]*.log'))).toEqual([join(dir, 'access.log'), join(dir, 'error.log')]);
    expect(expandPattern(join(dir, 'site-*', 'access.log'))).toEqual([join(dir, 'site-a', 'access.log')]);
  });

  it('keeps a path without wildcards as given, so a missing file is reported by name', () => {
    expect(expandPattern(join(dir, 'missing.log'))).toEqual([join(dir, 'missing.log')]);
    expect(expandPattern(join(dir, 'none-*.log'))).toEqual([]);
  });
});

describe('parseShipArgs', () => {
  const log = join(dir, 'access.log');

  it('has defaults that follow nothing and send straight to Kafka in the combined format', () => {
    expect(parseShipArgs([log])).toMatchObject({
      files: [log],
      follow: false,
      to: undefined,
      client: undefined,
      batchSize: 1000,
      batchMs: 200,
      pollMs: 250,
      format: { name: 'combined' },
    });
  });

  it('reads every option and removes duplicate files', () => {
    const command = parseShipArgs([
      log,
      join(dir, '*.log'),
      '-f',
      '--to',
      'http://localhost:3000/ingest',
      '--checkpoint-file',
      'c.json',
      '--batch-size',
      '50',
      '--batch-ms',
      '10',
      '--client',
      'platformatic',
      '--no-progress',
    ]);
    expect(command).toMatchObject({
      files: [log, join(dir, 'error.log')],
      follow: true,
      checkpointFile: 'c.json',
      batchSize: 50,
      batchMs: 10,
      client: 'platformatic',
      progress: false,
    });
    expect(command.to?.toString()).toBe('http://localhost:3000/ingest');
  });

  it('refuses mistakes with a message that says what to do', () => {
    expect(refusal([])).toContain('name at least one access log');
    expect(refusal([log, '--batch-size', '1.5'])).toContain('is not a whole number from 1 to 100000');
    expect(refusal([log, '--format', 'combined', '--format-file', 'x'])).toContain('not both');
    expect(refusal([log, '--format-file', join(dir, 'nope')])).toContain('ENOENT');
    expect(refusal([log, '--to', 'ftp://x/'])).toContain('only http:// and https://');
    expect(refusal([log, '--client', 'librdkafka'])).toContain(
      'choose one of rdkafka, kafkajs, platformatic',
    );
    expect(refusal([join(dir, 'none-*.log')])).toContain('no file matches');
    expect(refusal([log, '--format', '${remote_addr'])).toContain('column 1');
  });

  it('takes --rdkafka-setting key=value, repeated, for librdkafka only', () => {
    const command = parseShipArgs([
      log,
      '--rdkafka-setting',
      'compression.type=lz4',
      '--rdkafka-setting',
      'max.in.flight=5',
    ]);
    expect(command.rdkafkaSettings).toEqual({ 'compression.type': 'lz4', 'max.in.flight': '5' });
    expect(parseShipArgs([log]).rdkafkaSettings).toEqual({});
    expect(refusal([log, '--client', 'kafkajs', '--rdkafka-setting', 'linger.ms=5'])).toContain(
      'applies to --client rdkafka, not kafkajs',
    );
    expect(refusal([log, '--to', 'http://x/ingest', '--rdkafka-setting', 'linger.ms=5'])).toContain(
      '--to sends through HTTP',
    );
    expect(refusal([log, '--rdkafka-setting', 'acks=1'])).toContain('acks cannot be changed');
    expect(refusal([log, '--rdkafka-setting', 'transactional.id=ship'])).toContain(
      'transactional.id cannot be changed',
    );
  });
});
