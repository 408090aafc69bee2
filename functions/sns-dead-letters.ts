/**
 * Subscribed to the SNS dead-letter topic: lines the publish function could not parse, and deliveries a
 * subscriber failed even after Lambda's retries (Lambda's `onError` target). Each one is recorded on the
 * project's Kafka dead-letter topic with its reason, where every other dead letter already is.
 */
import type { Context, SNSEvent, SNSEventRecord } from 'aws-lambda';
import { loadConfig } from '../shared/config';
import { sharedAtomicProducer } from '../shared/kafka/atomic-producer';
import { endOfInvocation } from '../shared/kafka/producer';
import { logger } from '../shared/log';
import { encodeDeadLetter, type DeadLetterStage } from '../shared/record/contract';
import { ATTRIBUTE, attribute, isSnsEvent } from '../shared/sns/message';

const config = loadConfig();
const STAGES: readonly DeadLetterStage[] = ['parse', 'decode', 'handler'];

/** Lambda sends a failed asynchronous event to the dead-letter topic as the event's JSON. */
function failedDelivery(body: string): SNSEventRecord | undefined {
  try {
    const event: unknown = JSON.parse(body);
    return isSnsEvent(event) ? event.Records[0] : undefined;
  } catch {
    return undefined;
  }
}

export async function handler(event: SNSEvent, context?: Context): Promise<{ recorded: number }> {
  if (!isSnsEvent(event)) {
    throw new Error('sns-dead-letters expects an SNS event (Records[].EventSource "aws:sns")');
  }
  try {
    const messages = event.Records.map((record) => {
      const stage = attribute(record, ATTRIBUTE.stage) as DeadLetterStage | undefined;
      const failed = failedDelivery(record.Sns.Message);
      return encodeDeadLetter({
        original: failed?.Sns.Message ?? record.Sns.Message,
        reason: attribute(record, ATTRIBUTE.errorMessage) ?? 'undeliverable SNS message (no reason given)',
        stage: stage && STAGES.includes(stage) ? stage : 'handler',
        source: attribute(record, ATTRIBUTE.source) ?? `sns:${failed?.Sns.TopicArn ?? record.Sns.TopicArn}`,
        position:
          attribute(record, ATTRIBUTE.position) ??
          `message ${failed?.Sns.MessageId ?? record.Sns.MessageId}, request ${attribute(record, ATTRIBUTE.requestId) ?? '-'}`,
      });
    });
    // One transaction: the dead letters of this event are stored all once, or the invocation fails and
    // Lambda retries it (SNS messages are at most 256 KB, so each fits the topic's 1 MB default).
    await sharedAtomicProducer(config).send([{ topic: config.deadLetterTopic, messages }]);
    logger.warn('sns-dead-letters.recorded', {
      function: context?.functionName,
      recorded: messages.length,
      reasons: event.Records.map((r) => attribute(r, ATTRIBUTE.errorMessage)),
    });
    return { recorded: messages.length };
  } finally {
    await endOfInvocation();
  }
}
