/**
 * Reads a function's `sns` events from serverless.yml: the topic (a name, an ARN, or `arn`/`topicName`),
 * an optional filter policy, and what Lambda does with a failed asynchronous invocation: retry it
 * `maximumRetryAttempts` times (Lambda's default: 2) and then send it to the `onError` topic.
 */
import { topicArn, topicName } from '../../shared/sns/config';

export interface SnsEventDefinition {
  functionKey: string;
  topicArn: string;
  topicName: string;
  filterPolicy?: Record<string, unknown>;
  maximumRetryAttempts: number;
  /** The SNS topic ARN of the function's `onError` dead-letter target. */
  deadLetterTopicArn?: string;
}

export interface RawFunction {
  events?: Array<Record<string, unknown>>;
  onError?: unknown;
  maximumRetryAttempts?: unknown;
}

export class SnsEventDefinitionError extends Error {}

/** Lambda's default for asynchronous invocations. */
export const LAMBDA_ASYNC_RETRIES = 2;

function toArn(value: string, region: string, account: string): string {
  return value.startsWith('arn:') ? value : topicArn(value, region, account);
}

export function snsEventDefinitions(
  functions: Record<string, RawFunction>,
  region: string,
  account: string,
): SnsEventDefinition[] {
  const definitions: SnsEventDefinition[] = [];
  for (const [functionKey, fn] of Object.entries(functions)) {
    const where = `function ${functionKey}`;
    const retries = fn.maximumRetryAttempts ?? LAMBDA_ASYNC_RETRIES;
    if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0 || retries > 2) {
      throw new SnsEventDefinitionError(`${where}: maximumRetryAttempts must be 0, 1 or 2`);
    }
    let deadLetterTopicArn: string | undefined;
    if (fn.onError !== undefined) {
      if (typeof fn.onError !== 'string' || !fn.onError.startsWith('arn:aws:sns:')) {
        throw new SnsEventDefinitionError(
          `${where}: onError must be an SNS topic ARN locally (arn:aws:sns:<region>:<account>:<name>)`,
        );
      }
      deadLetterTopicArn = fn.onError;
      topicName(deadLetterTopicArn);
    }
    for (const event of fn.events ?? []) {
      if (!('sns' in event)) continue;
      const raw = event.sns;
      let arn: string;
      let filterPolicy: Record<string, unknown> | undefined;
      if (typeof raw === 'string' && raw) {
        arn = toArn(raw, region, account);
      } else if (typeof raw === 'object' && raw !== null) {
        const r = raw as { arn?: unknown; topicName?: unknown; filterPolicy?: unknown };
        if (typeof r.arn === 'string' && r.arn) arn = r.arn;
        else if (typeof r.topicName === 'string' && r.topicName) arn = toArn(r.topicName, region, account);
        else throw new SnsEventDefinitionError(`${where}: an sns event needs a topic name, arn or topicName`);
        if (r.filterPolicy !== undefined) {
          if (typeof r.filterPolicy !== 'object' || r.filterPolicy === null) {
            throw new SnsEventDefinitionError(`${where}: filterPolicy must be an object`);
          }
          filterPolicy = r.filterPolicy as Record<string, unknown>;
        }
      } else {
        throw new SnsEventDefinitionError(`${where}: an sns event needs a topic name, arn or topicName`);
      }
      let name: string;
      try {
        name = topicName(arn);
      } catch (err) {
        throw new SnsEventDefinitionError(`${where}: ${(err as Error).message}`);
      }
      definitions.push({
        functionKey,
        topicArn: arn,
        topicName: name,
        filterPolicy,
        maximumRetryAttempts: retries,
        deadLetterTopicArn,
      });
    }
  }
  return definitions;
}
