/**
 * Where SNS messages go: the topic the publish function writes to and the dead-letter topic that records
 * what could not be parsed or delivered. Locally SNS_ENDPOINT points at the emulator; on AWS it is unset.
 * Every variable read here is documented in the README's configuration table.
 */
export interface SnsConfig {
  /** An SNS-compatible endpoint (the local emulator, LocalStack); undefined on AWS. */
  endpoint: string | undefined;
  region: string;
  topicArn: string;
  deadLetterTopicArn: string;
}

export const SNS_DEFAULTS = {
  region: 'us-east-1',
  /** The account the local emulator and LocalStack use. */
  account: '000000000000',
  topic: 'nginx-logs',
  deadLetterTopic: 'nginx-logs-dlq',
} as const;

export function topicArn(
  name: string,
  region: string = SNS_DEFAULTS.region,
  account: string = SNS_DEFAULTS.account,
): string {
  return `arn:aws:sns:${region}:${account}:${name}`;
}

/** The topic name at the end of an SNS topic ARN. */
export function topicName(arn: string): string {
  const parts = arn.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sns' || !parts[5]) {
    throw new Error(`"${arn}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)`);
  }
  return parts[5];
}

export function loadSnsConfig(env: NodeJS.ProcessEnv = process.env): SnsConfig {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || SNS_DEFAULTS.region;
  const config: SnsConfig = {
    endpoint: env.SNS_ENDPOINT || undefined,
    region,
    topicArn: env.SNS_TOPIC_ARN || topicArn(SNS_DEFAULTS.topic, region),
    deadLetterTopicArn: env.SNS_DLQ_TOPIC_ARN || topicArn(SNS_DEFAULTS.deadLetterTopic, region),
  };
  topicName(config.topicArn);
  topicName(config.deadLetterTopicArn);
  return config;
}
