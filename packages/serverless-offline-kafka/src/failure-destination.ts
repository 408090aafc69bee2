/**
 * The on-failure destination of one Kafka event source: where the records go that the function could not
 * handle within the event's error handling. A `kafka://<topic>` destination is that topic; an SNS topic or
 * SQS queue ARN stands locally for the dead-letter topic. Each record is written with its own key, value
 * and headers, the service's failure headers and Lambda's failure document (lambda-events/on-failure-record.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { KafkaEventDefinition } from './kafka-event-definition';
import {
  destinationMessages,
  onFailureRecord,
  type FailureCondition,
} from './lambda-events/on-failure-record';
import type { SourceLog } from './plugin-support';
import { retryDelayMs } from './retry-delay';
import { functionArn, SETTING_DEFAULTS } from './settings';

export interface FailureDestinationOptions {
  /** The topic SNS/SQS on-failure destinations stand for locally; default `<source topic>_dlq`. */
  deadLetterTopic?: string;
  /** ARN named in failure documents; default the function key under the default region and account. */
  functionArn?: string;
  /** Headers added to every record written; `{condition}`, `{error}`, `{topic}`, ... are filled in. */
  failureHeaders?: Record<string, string>;
  /** First retry delay of a failed write; doubles per attempt up to 10 s. */
  retryBaseDelayMs: number;
}

/** Where SNS/SQS on-failure destinations of a source topic go locally when no dead-letter topic is set. */
export const defaultDeadLetterTopic = (topic: string): string => `${topic}_dlq`;

export class FailureDestination {
  private producer: Producer | undefined;

  constructor(
    private readonly definition: KafkaEventDefinition,
    private readonly kafka: Kafka,
    private readonly log: SourceLog,
    private readonly options: FailureDestinationOptions,
  ) {}

  private get label(): string {
    return `Kafka [${this.definition.functionKey}]`;
  }

  /**
   * Writes given-up records to the on-failure destination, retrying until it works or `signal` aborts
   * (then false). Without a destination Lambda drops them; locally that is reported as an error line,
   * never silently.
   */
  async send(
    condition: FailureCondition,
    partition: number,
    messages: KafkaMessage[],
    invokeCount: number,
    error: string,
    signal: AbortSignal,
  ): Promise<boolean> {
    const { topic, functionKey, errorHandling } = this.definition;
    const range = `${topic}-${partition} offsets ${messages[0]!.offset}..${messages[messages.length - 1]!.offset}`;
    const destination = errorHandling.onFailure;
    if (!destination) {
      this.log.error(
        `${this.label} ${condition}: dropped ${messages.length} records (${range}) as Lambda does without an on-failure destination: ${error}`,
      );
      return true;
    }
    const target =
      destination.kind === 'kafka'
        ? destination.topic
        : (this.options.deadLetterTopic ?? defaultDeadLetterTopic(topic));
    const failure = onFailureRecord({
      functionArn: this.options.functionArn ?? functionArn(SETTING_DEFAULTS, functionKey),
      condition,
      invokeCount,
      error,
      topic,
      partition,
      messages,
    });
    for (let attempt = 1; ; attempt++) {
      try {
        if (!this.producer) {
          this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
          await this.producer.connect();
        }
        await this.producer.send({
          topic: target,
          acks: -1,
          messages: destinationMessages(failure, messages, this.options.failureHeaders),
        });
        this.log.error(
          `${this.label} ${condition}: sent ${messages.length} records (${range}) to the on-failure destination ${target}: ${error}`,
        );
        return true;
      } catch (err) {
        this.log.error(
          `${this.label} could not write ${range} to the on-failure destination ${target}: ${(err as Error).message}; retrying`,
        );
        try {
          await sleep(retryDelayMs(attempt, this.options.retryBaseDelayMs), undefined, { signal });
        } catch {
          return false;
        }
      }
    }
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect();
  }
}
