/**
 * Lines in, SNS messages out: the same parsing as the Kafka ingest (shared/ingest), then one SNS message
 * per record to the topic and one per unparseable line to the dead-letter topic. SNS has no transaction
 * across messages, so the answer accounts per line: every Publish is counted, and when one fails (after the
 * SDK's own retries) or the request's deadline passes, the answer lists exactly the lines whose message was
 * not confirmed, so that the client resends those and only those.
 *
 * Bounds: at most MAX_SNS_LINES lines per request (413 above), PUBLISH_CONCURRENCY calls in flight, and no
 * Publish started after SNS_PUBLISH_DEADLINE_MS, well inside Lambda's 30 s timeout.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { prepareLines, type IngestResult, type Line } from '../ingest/ingest-lines';
import { IngestRequestError } from '../ingest/request';
import { DLQ_HEADER, type LineOrigin } from '../record/contract';
import type { SnsConfig } from './config';
import { ATTRIBUTE, snsDeadLetterMessage, snsMessageFromRecord, type SnsMessage } from './message';

export const PUBLISH_CONCURRENCY = 16;
export const MAX_SNS_LINES = 500;
export const SNS_PUBLISH_DEADLINE_MS = 15000;

type Target = { topicArn: string; message: SnsMessage };

/**
 * Publishes each target, `concurrency` at a time, and says which were confirmed. A failed Publish stops
 * no others; none is started after `deadline` (ms since the epoch).
 */
export async function publishCounted(
  client: SNSClient,
  targets: readonly Target[],
  concurrency = PUBLISH_CONCURRENCY,
  deadline = Infinity,
): Promise<{ confirmed: boolean[]; unknown: boolean[]; firstError: unknown }> {
  const confirmed = targets.map(() => false);
  // A call that timed out or lost its connection after sending may have been published anyway.
  const unknown = targets.map(() => false);
  let firstError: unknown;
  let next = 0;
  const worker = async () => {
    while (next < targets.length && Date.now() < deadline) {
      const index = next++;
      const { topicArn, message } = targets[index]!;
      try {
        await client.send(
          new PublishCommand({
            TopicArn: topicArn,
            Message: message.body,
            MessageAttributes: message.attributes,
          }),
          { abortSignal: AbortSignal.timeout(Math.max(1, Math.min(10000, deadline - Date.now()))) },
        );
        confirmed[index] = true;
      } catch (err) {
        firstError ??= err;
        unknown[index] = !refusedBeforePublishing(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
  if (firstError === undefined && confirmed.includes(false)) firstError = new Error('the deadline passed');
  return { confirmed, unknown, firstError };
}

/** An error answer from SNS, or a connection never made: the message was certainly not published. */
function refusedBeforePublishing(err: unknown): boolean {
  const e = err as { $metadata?: { httpStatusCode?: number }; code?: string; name?: string };
  return (
    (e.$metadata?.httpStatusCode ?? 0) >= 400 || e.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(String(err))
  );
}

/** Publishes every target or throws the first error. */
export async function publishAll(
  client: SNSClient,
  targets: readonly Target[],
  concurrency = PUBLISH_CONCURRENCY,
): Promise<void> {
  const { firstError } = await publishCounted(client, targets, concurrency);
  if (firstError !== undefined) throw firstError;
}

/**
 * Not every line's message was confirmed. `unpublishedLines` were certainly not published (refused, or
 * never sent): resending them duplicates nothing. `unknownLines` timed out or lost the connection after
 * the call was sent: SNS may have published them.
 */
export class PublishIncomplete extends Error {
  readonly statusCode = 503;
  constructor(
    readonly result: IngestResult,
    readonly published: number,
    readonly unpublishedLines: number[],
    readonly unknownLines: number[],
    cause: unknown,
  ) {
    super(
      `SNS confirmed ${published} of ${published + unpublishedLines.length + unknownLines.length} messages ` +
        `(${(cause as Error)?.message ?? String(cause)}). The lines in "unpublished" were not published: send ` +
        'those again. The lines in "unknown" got no answer and may be published: resending them may ' +
        'publish them twice. All other lines are published.',
    );
  }

  get answer(): Record<string, unknown> {
    return {
      error: this.message,
      ...this.result,
      published: this.published,
      unpublished: this.unpublishedLines,
      unknown: this.unknownLines,
    };
  }
}

export async function publishLines(
  client: SNSClient,
  config: Pick<SnsConfig, 'topicArn' | 'deadLetterTopicArn'>,
  lines: readonly Line[],
  origin: LineOrigin,
  deadlineMs = SNS_PUBLISH_DEADLINE_MS,
): Promise<IngestResult & { published: number }> {
  const deadline = Date.now() + deadlineMs;
  if (lines.length > MAX_SNS_LINES) {
    throw new IngestRequestError(
      413,
      `the request has ${lines.length} lines; SNS publishing takes at most ${MAX_SNS_LINES} per request ` +
        '(one message each); nothing was published. Split it into smaller requests.',
    );
  }
  const batch = prepareLines(lines, origin);
  const now = String(Date.now());
  // Which line each message carries: records and dead letters are in line order, blank lines carry none.
  const lineOf: number[] = [];
  const targets: Target[] = [];
  let record = 0;
  let letter = 0;
  lines.forEach((line, index) => {
    if ((typeof line === 'string' ? line : line.toString('utf8')).trim().length === 0) return;
    const rejected = batch.result.rejected > 0 && isRejected(batch, letter, index);
    lineOf.push(index + 1);
    if (!rejected) {
      const message = snsMessageFromRecord(batch.records[record++]!);
      message.attributes[ATTRIBUTE.publishedAt] = { DataType: 'Number', StringValue: now };
      targets.push({ topicArn: config.topicArn, message });
      return;
    }
    const dead = batch.deadLetters[letter++]!;
    const header = (name: string) => dead.headers?.[name]?.toString() ?? '';
    targets.push({
      topicArn: config.deadLetterTopicArn,
      message: snsDeadLetterMessage({
        original: dead.value?.toString() ?? '',
        reason: header(DLQ_HEADER.reason),
        stage: 'parse',
        source: origin.source,
        position: header(DLQ_HEADER.position),
      }),
    });
  });
  const { confirmed, unknown, firstError } = await publishCounted(
    client,
    targets,
    PUBLISH_CONCURRENCY,
    deadline,
  );
  const published = confirmed.filter(Boolean).length;
  if (firstError !== undefined) {
    const unpublished = lineOf.filter((_, i) => !confirmed[i] && !unknown[i]);
    const unsure = lineOf.filter((_, i) => unknown[i]);
    throw new PublishIncomplete(batch.result, published, unpublished, unsure, firstError);
  }
  return { ...batch.result, published };
}

/** Whether line `index` is the next dead letter's line (dead letters name their line as `line N`). */
function isRejected(batch: ReturnType<typeof prepareLines>, letter: number, index: number): boolean {
  const next = batch.deadLetters[letter];
  return next?.headers?.[DLQ_HEADER.position]?.toString() === `line ${index + 1}`;
}
