/**
 * The frame every Kafka-triggered function shares: check the event, decode the batch once, send records
 * that are not valid nginx records to the dead-letter topic with their reason and position (in the one
 * function that owns dead letters), run the function's own work, and log one structured line for the batch.
 *
 * One bad record, one dead letter: every consumer group receives every record, so if each group wrote
 * dead letters a bad record would land there once per group. Only the function created with
 * `{ writesDeadLetters: true }` writes them — the analytics consumer, which also counts each bad record
 * once among the failed requests — and the others count them in their batch line. The letter is sent
 * before the batch's work, so a batch retried after a failure may send it again (at least once, never lost).
 */
import type { Context } from 'aws-lambda';
import { loadConfig } from '../config';
import { endOfInvocation, sendAll, sharedProducer } from '../kafka/producer';
import { logger, type Fields } from '../log';
import { encodeDeadLetter } from '../record/contract';
import {
  decodeNginxBatch,
  isKafkaEvent,
  position,
  type KafkaEvent,
  type NginxBatch,
} from '../record/kafka-event';

export type BatchWork<R extends object> = (batch: NginxBatch, event: KafkaEvent) => Promise<R> | R;

export interface BatchHandlerOptions {
  /** This function's consumer group is the one that sends undecodable records to the dead-letter topic. */
  writesDeadLetters?: boolean;
}

export function kafkaBatchHandler<R extends object>(
  name: string,
  work: BatchWork<R>,
  options: BatchHandlerOptions = {},
): (event: KafkaEvent, context?: Context) => Promise<R> {
  const config = loadConfig();
  return async (event, context) => {
    if (!isKafkaEvent(event)) {
      throw new Error(
        `${name} expects a Kafka event (eventSource "aws:kafka" or "SelfManagedKafka"); ` +
          'invoke it with events/msk-nginx-logs.json',
      );
    }
    try {
      return await handle(event, context);
    } finally {
      await endOfInvocation();
    }
  };

  async function handle(event: KafkaEvent, context: Context | undefined): Promise<R> {
    const started = Date.now();
    const batch = decodeNginxBatch(event);
    if (options.writesDeadLetters && batch.invalid.length > 0) {
      const producer = await sharedProducer(config);
      await sendAll(producer, [
        {
          topic: config.deadLetterTopic,
          messages: batch.invalid.map(({ delivered, reason }) =>
            encodeDeadLetter({
              original: delivered.value,
              reason,
              stage: 'decode',
              source: delivered.topic,
              position: position(delivered),
            }),
          ),
        },
      ]);
    }
    const result = await work(batch, event);
    const line: Fields = {
      function: context?.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? name,
      requestId: context?.awsRequestId,
      durationMs: Date.now() - started,
      ...result,
    };
    logger.info(`${name}.batch`, line);
    return result;
  }
}
