/**
 * Lines in, SNS messages out: the same parsing as the Kafka ingest (shared/ingest), then one SNS message
 * per record to the topic and one per unparseable line to the dead-letter topic. SNS has no batch
 * acknowledgement across messages, so each message is its own Publish call, a few in flight at a time;
 * the call fails when any publish failed, after the SDK's own retries.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { prepareLines, type IngestResult, type Line } from '../ingest/ingest-lines';
import { DLQ_HEADER, type LineOrigin } from '../record/contract';
import type { SnsConfig } from './config';
import { ATTRIBUTE, snsDeadLetterMessage, snsMessageFromRecord, type SnsMessage } from './message';

export const PUBLISH_CONCURRENCY = 16;

export async function publishAll(
  client: SNSClient,
  targets: Array<{ topicArn: string; message: SnsMessage }>,
  concurrency = PUBLISH_CONCURRENCY,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const { topicArn, message } = targets[next++]!;
      await client.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: message.body,
          MessageAttributes: message.attributes,
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
}

export async function publishLines(
  client: SNSClient,
  config: Pick<SnsConfig, 'topicArn' | 'deadLetterTopicArn'>,
  lines: readonly Line[],
  origin: LineOrigin,
): Promise<IngestResult> {
  const batch = prepareLines(lines, origin);
  const now = String(Date.now());
  const records = batch.records.map((record) => {
    const message = snsMessageFromRecord(record);
    message.attributes[ATTRIBUTE.publishedAt] = { DataType: 'Number', StringValue: now };
    return { topicArn: config.topicArn, message };
  });
  const deadLetters = batch.deadLetters.map((letter) => {
    const header = (name: string) => letter.headers?.[name]?.toString() ?? '';
    return {
      topicArn: config.deadLetterTopicArn,
      message: snsDeadLetterMessage({
        original: letter.value?.toString() ?? '',
        reason: header(DLQ_HEADER.reason),
        stage: 'parse',
        source: origin.source,
        position: header(DLQ_HEADER.position),
      }),
    };
  });
  await publishAll(client, [...records, ...deadLetters]);
  return batch.result;
}
