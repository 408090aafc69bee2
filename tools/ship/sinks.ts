/**
 * Where shipped lines go: straight to Kafka through the same shared code as the ingest function (parse,
 * encode, key, dead-letter, acknowledged send), or to the ingest function's HTTP endpoint.
 */
import type { PipelineConfig } from '../../shared/config';
import { createKafka } from '../../shared/kafka/client';
import { logger } from '../../shared/log';
import type { CompiledLogFormat } from '../../shared/nginx/log-format';
import type { EncodedBatch, LineGroup, SendCounts } from './encoded-batch';
import { RdkafkaSettingError, shipProducer, type ShipClientName, type ShipProducer } from './kafka-clients';
import { InlineEncoder, ParseWorker, type BatchEncoder } from './parse-thread';
import { sendFor, type Send } from './signed-request';

export { positionOf, type LineGroup, type SendCounts } from './encoded-batch';

/** A batch turned into what goes on the wire, built once so a retry resends the very same thing. */
export interface Prepared {
  counts: SendCounts;
  send(): Promise<void>;
}

export interface Sink {
  /** Where to, for messages. */
  readonly target: string;
  /** Fails with a StartError when the destination does not answer or lacks what it needs. */
  start(): Promise<void>;
  /** Batches that may be sent before the oldest of them is acknowledged (known once started). */
  readonly maxInFlight: number;
  prepare(groups: LineGroup[]): Prepared;
  stop(): Promise<void>;
}

/** At start: the broker or endpoint does not answer, or lacks what the shipper needs (topics, settings). */
export class StartError extends Error {}

/** A file cannot be read, or the broker or endpoint refused a batch, while shipping. */
export class ShipError extends Error {}

export class KafkaSink implements Sink {
  readonly target: string;
  private producer: ShipProducer | undefined;
  private encoder: BatchEncoder | undefined;

  constructor(
    private readonly config: PipelineConfig,
    private readonly format: CompiledLogFormat,
    /** `--client`; unset: rdkafka where it is installed (kafka-clients.ts, shipProducer). */
    private readonly client?: ShipClientName,
    /** `--rdkafka-setting`s (librdkafka only). */
    private readonly rdkafkaSettings: Record<string, string> = {},
  ) {
    this.target = `Kafka ${config.brokers.join(',')} topic ${config.topic}`;
  }

  async start(): Promise<void> {
    // A short check first: the producer's own retries take a minute before they give up.
    const admin = createKafka(this.config, {
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 },
    }).admin();
    try {
      await admin.connect();
    } catch (err) {
      throw new StartError(
        `cannot reach Kafka at ${this.config.brokers.join(',')} (${(err as Error).message}); start a broker with ` +
          '`npm run kafka:start` or point KAFKA_BROKERS at one',
      );
    }
    try {
      const existing = new Set(await admin.listTopics());
      const missing = [this.config.topic, this.config.deadLetterTopic].filter((t) => !existing.has(t));
      if (missing.length > 0) {
        throw new StartError(
          `topic ${missing.join(' and ')} does not exist on ${this.config.brokers.join(',')}; create it ` +
            '(`npm run kafka:start` creates nginx_logs and nginx_logs_dlq) or set KAFKA_TOPIC / KAFKA_DLQ_TOPIC',
        );
      }
    } finally {
      await admin.disconnect();
    }
    let chosen;
    try {
      chosen = await shipProducer(this.config, this.client, this.rdkafkaSettings);
    } catch (err) {
      if (err instanceof RdkafkaSettingError) throw new StartError(err.message);
      throw err;
    }
    const { producer, note } = chosen;
    if (note) logger.warn('ship.client', { client: producer.name, note });
    this.producer = producer;
    await producer.connect();
    this.encoder = startEncoder(this.format);
  }

  get maxInFlight(): number {
    return this.producer?.maxInFlight ?? 1;
  }

  /** The Kafka client in use, once started. */
  get clientName(): ShipClientName | undefined {
    return this.producer?.name;
  }

  /**
   * The lines go to the parse worker at once; send() waits for them encoded, then hands them to the
   * producer. Batches are encoded in the order they are prepared, and the shipper sends them in that order.
   */
  prepare(groups: LineGroup[]): Prepared {
    const counts: SendCounts = { accepted: 0, rejected: 0, blank: 0 };
    const encoded = this.encoder!.encode(groups).then((batch) => {
      Object.assign(counts, batch.counts);
      return batch;
    });
    // A failure shows in send(); until then the promise must not count as unhandled.
    encoded.catch(() => undefined);
    let batch: EncodedBatch | undefined;
    return {
      counts,
      send: async () => {
        // One object for every attempt: the producer knows a retry of it and resends only what was not stored.
        batch ??= await encoded.catch((err: Error) => {
          throw new ShipError(err.message);
        });
        await this.producer!.send(batch);
      },
    };
  }

  async stop(): Promise<void> {
    await this.encoder?.close();
    await this.producer?.disconnect();
  }
}

/**
 * The parse worker, unless SHIP_PARSE_WORKER=off (or no worker thread can be started): then batches are
 * encoded on the main thread.
 */
function startEncoder(format: CompiledLogFormat): BatchEncoder {
  if (process.env.SHIP_PARSE_WORKER === 'off') return new InlineEncoder(format);
  try {
    return new ParseWorker(format.spec);
  } catch (err) {
    logger.warn('ship.parse_worker', { note: 'no worker thread; parsing on the main thread', error: err });
    return new InlineEncoder(format);
  }
}

/** Statuses worth retrying: the endpoint or the broker behind it is busy or down. */
const RETRIABLE = new Set([408, 429, 500, 502, 503, 504]);

export class HttpSink implements Sink {
  readonly target: string;
  readonly maxInFlight = 1;

  /** `send` defaults to SigV4-signed requests for https (the aws stage's IAM auth), plain ones for http. */
  constructor(
    private readonly url: URL,
    private readonly send: Send = sendFor(url),
  ) {
    this.target = url.toString();
  }

  async start(): Promise<void> {
    // An empty POST costs nothing: a live ingest endpoint answers 400 "request body is empty".
    let response: Response;
    try {
      response = await this.send(this.url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '',
      });
    } catch (err) {
      throw new StartError(
        `cannot reach the ingest endpoint ${this.url} (${(err as Error).cause ?? (err as Error).message}); ` +
          'start it with `npm run offline` or check --to',
      );
    }
    await response.text();
    if (response.status === 401 || response.status === 403) {
      throw new StartError(
        `${this.url} refused the request (${response.status}): its POST routes need IAM; the AWS credentials in use ` +
          'need execute-api:Invoke on the route (see docs/deploy-aws.md, "Who can call what")',
      );
    }
    if (response.status === 404 || response.status === 405) {
      throw new StartError(
        `${this.url} answered ${response.status}: no ingest endpoint there; check --to (e.g. http://localhost:3000/ingest)`,
      );
    }
  }

  prepare(groups: LineGroup[]): Prepared {
    const counts: SendCounts = { accepted: 0, rejected: 0, blank: 0 };
    // The endpoint refuses a body without a line (400): blank-only groups are counted here instead.
    const blankOnly = groups.filter((g) => g.lines.every((l) => l.trim().length === 0));
    const blank = blankOnly.reduce((sum, g) => sum + g.lines.length, 0);
    const bodies = groups.filter((g) => !blankOnly.includes(g)).map((g) => g.lines.join('\n') + '\n');
    return {
      counts,
      send: async () => {
        counts.accepted = counts.rejected = 0;
        counts.blank = blank;
        for (const body of bodies) {
          const response = await this.send(this.url, {
            method: 'POST',
            headers: { 'content-type': 'text/plain' },
            body,
          });
          const text = await response.text();
          if (response.status !== 200) {
            const error = new Error(`${this.url} answered ${response.status}: ${text.slice(0, 300)}`);
            if (!RETRIABLE.has(response.status)) (error as Error & { fatal?: boolean }).fatal = true;
            throw error;
          }
          const result = JSON.parse(text) as SendCounts;
          counts.accepted += result.accepted;
          counts.rejected += result.rejected;
          counts.blank += result.blank;
        }
      },
    };
  }

  async stop(): Promise<void> {}
}
