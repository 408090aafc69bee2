/**
 * The frame of every SNS-triggered function. SNS invokes Lambda asynchronously with one message per event;
 * a message that is not a valid nginx record makes the invocation fail, so Lambda retries it and then hands
 * it to the function's dead-letter topic (`onError`) with the reason, where functions/sns-dead-letters
 * records it. Nothing is dropped here.
 */
import type { Context, SNSEvent } from 'aws-lambda';
import { logger } from '../log';
import type { NginxRecord } from '../nginx/record';
import { ATTRIBUTE, attribute, decodeSnsRecord, isSnsEvent } from './message';

export interface Delivery {
  messageId: string;
  topicArn: string;
  record: NginxRecord;
  /** Milliseconds from publish to this handler, when the publisher stamped the message. */
  latencyMs: number | undefined;
}

export type DeliveryWork = (delivery: Delivery) => Promise<Record<string, unknown>> | Record<string, unknown>;

export function snsSubscriber(
  name: string,
  work: DeliveryWork,
): (event: SNSEvent, context?: Context) => Promise<void> {
  return async (event, context) => {
    if (!isSnsEvent(event)) {
      throw new Error(
        `${name} expects an SNS event (Records[].EventSource "aws:sns"); invoke it with events/sns-nginx-logs.json`,
      );
    }
    for (const record of event.Records) {
      const published = Number(attribute(record, ATTRIBUTE.publishedAt));
      const delivery: Delivery = {
        messageId: record.Sns.MessageId,
        topicArn: record.Sns.TopicArn,
        record: decodeSnsRecord(record),
        latencyMs: Number.isFinite(published) && published > 0 ? Date.now() - published : undefined,
      };
      // Client addresses are personal data: what the work returns is logged without them.
      const { remoteAddr: _address, ...result } = await work(delivery);
      logger.info(`${name}.delivery`, {
        function: context?.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? name,
        messageId: delivery.messageId,
        source: attribute(record, ATTRIBUTE.source),
        latencyMs: delivery.latencyMs,
        ...result,
      });
    }
  };
}
