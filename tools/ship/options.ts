/** The shipper's command line: options in, a checked ShipCommand out, or a UsageError that says what to do. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { compileLogFormat, LogFormatError, type CompiledLogFormat } from '../../shared/nginx/log-format';
import { expandPattern, hasWildcard } from './glob';
import {
  checkRdkafkaSettings,
  parseRdkafkaSettings,
  RdkafkaSettingError,
  SHIP_CLIENTS,
  type ShipClientName,
} from './kafka-clients';

export const USAGE = `usage: nginx-kafka-ship <file|glob>... [options]    (npm run ship -- <file|glob>... [options])

Ships nginx access-log lines to the Kafka topic (KAFKA_TOPIC, default nginx_logs) as structured records,
lines that are not in the log format to the dead-letter topic (KAFKA_DLQ_TOPIC).

  -f, --follow               keep following the files (rotation by rename or copytruncate included)
      --format <spec>        combined (default), a log_format string, or the log_format directive as in
                             nginx.conf (escape=json formats included)
      --format-file <path>   read --format from a file (e.g. a log_format directive copied from nginx.conf)
      --to <url>             send through the ingest HTTP endpoint (e.g. http://localhost:3000/ingest)
                             instead of straight to Kafka (combined format only)
      --client <name>        the Kafka client: rdkafka (librdkafka; the default where it is installed,
                             also TLS and SCRAM), kafkajs (the fallback; also TLS, SCRAM and MSK IAM,
                             the default with KAFKA_AUTH=iam) or platformatic (@platformatic/kafka,
                             plaintext brokers, Node.js 20.19.4+)
      --rdkafka-setting <key=value>
                             a librdkafka setting for the rdkafka client, repeatable (e.g.
                             compression.type=lz4 on a real network); acks, idempotence, delivery reports
                             and brokers stay the shipper's, max.in.flight at most 5
      --checkpoint-file <p>  remember what the broker acknowledged; a rerun resumes there
      --batch-size <lines>   lines per batch (default 1000)
      --batch-ms <ms>        send a batch at the latest this long after its first line (default 200)
      --poll-ms <ms>         how often a followed file at its end is looked at again (default 250)
      --progress / --no-progress   progress line on stderr (default: when stderr is a terminal)
  -h, --help                 this text

Brokers come from KAFKA_BROKERS (default the local broker, 127.0.0.1:$LOCAL_KAFKA_PORT or 9092). Exit status: 0 done (or stopped by Ctrl-C /
SIGTERM), 1 the broker, the endpoint or a file failed, 2 a usage mistake.`;

export class UsageError extends Error {}

export interface ShipCommand {
  help: boolean;
  files: string[];
  follow: boolean;
  format: CompiledLogFormat;
  to: URL | undefined;
  /** The Kafka client; unset: rdkafka where installed, else kafkajs (kafka-clients.ts, shipProducer). */
  client: ShipClientName | undefined;
  /** `--rdkafka-setting`s, added to the librdkafka producer's settings (kafka-clients.ts). */
  rdkafkaSettings: Record<string, string>;
  checkpointFile: string | undefined;
  batchSize: number;
  batchMs: number;
  pollMs: number;
  progress: boolean | undefined;
}

function positiveInteger(option: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new UsageError(`--${option} ${JSON.stringify(value)} is not a whole number from 1 to ${max}`);
  }
  return Number(value);
}

export function parseShipArgs(argv: string[]): ShipCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        follow: { type: 'boolean', short: 'f' },
        format: { type: 'string' },
        'format-file': { type: 'string' },
        to: { type: 'string' },
        client: { type: 'string' },
        'rdkafka-setting': { type: 'string', multiple: true },
        'checkpoint-file': { type: 'string' },
        'batch-size': { type: 'string' },
        'batch-ms': { type: 'string' },
        'poll-ms': { type: 'string' },
        progress: { type: 'boolean' },
        'no-progress': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  const { values, positionals } = parsed;
  const base = {
    follow: values.follow ?? false,
    to: undefined,
    client: undefined,
    rdkafkaSettings: {},
    checkpointFile: values['checkpoint-file'],
    batchSize: 1000,
    batchMs: 200,
    pollMs: 250,
    progress: undefined,
  };
  if (values.help) return { ...base, help: true, files: [], format: compileLogFormat('combined') };
  if (positionals.length === 0) throw new UsageError('name at least one access log (a path or a glob)');

  if (values.format !== undefined && values['format-file'] !== undefined) {
    throw new UsageError('give --format or --format-file, not both');
  }
  let formatText = values.format ?? 'combined';
  if (values['format-file'] !== undefined) {
    try {
      formatText = readFileSync(values['format-file'], 'utf8');
    } catch (err) {
      throw new UsageError(
        `--format-file ${values['format-file']}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  let format: CompiledLogFormat;
  try {
    format = compileLogFormat(formatText);
  } catch (err) {
    if (err instanceof LogFormatError) throw new UsageError(`--format: ${err.message}`);
    throw err;
  }

  let to: URL | undefined;
  if (values.to !== undefined) {
    try {
      to = new URL(values.to);
    } catch {
      throw new UsageError(
        `--to ${JSON.stringify(values.to)} is not a URL; example: http://localhost:3000/ingest`,
      );
    }
    if (to.protocol !== 'http:' && to.protocol !== 'https:') {
      throw new UsageError(`--to ${values.to}: only http:// and https:// URLs`);
    }
    if (format.name !== 'combined' || format.parse !== compileLogFormat('combined').parse) {
      throw new UsageError(
        '--to sends lines to the ingest function, which reads the combined format only; ship other formats straight to Kafka (leave out --to)',
      );
    }
  }

  const client = values.client as ShipClientName | undefined;
  if (client !== undefined && !SHIP_CLIENTS.includes(client)) {
    throw new UsageError(`--client ${JSON.stringify(client)}: choose one of ${SHIP_CLIENTS.join(', ')}`);
  }

  let rdkafkaSettings: Record<string, string> = {};
  if (values['rdkafka-setting'] !== undefined) {
    if (to !== undefined) throw new UsageError('--rdkafka-setting applies to Kafka; --to sends through HTTP');
    if (client !== undefined && client !== 'rdkafka') {
      throw new UsageError(`--rdkafka-setting applies to --client rdkafka, not ${client}`);
    }
    try {
      rdkafkaSettings = parseRdkafkaSettings(values['rdkafka-setting']);
      checkRdkafkaSettings(rdkafkaSettings);
    } catch (err) {
      if (err instanceof RdkafkaSettingError) throw new UsageError(err.message);
      throw err;
    }
  }

  const files: string[] = [];
  for (const pattern of positionals) {
    const matched = expandPattern(pattern);
    if (matched.length === 0 && hasWildcard(pattern)) throw new UsageError(`no file matches ${pattern}`);
    for (const file of matched) if (!files.includes(file)) files.push(file);
  }

  return {
    help: false,
    files,
    follow: values.follow ?? false,
    format,
    to,
    client,
    rdkafkaSettings,
    checkpointFile: values['checkpoint-file'],
    batchSize: positiveInteger('batch-size', values['batch-size'], 1000, 100000),
    batchMs: positiveInteger('batch-ms', values['batch-ms'], 200, 600000),
    pollMs: positiveInteger('poll-ms', values['poll-ms'], 250, 60000),
    progress: values['no-progress'] ? false : values.progress,
  };
}
