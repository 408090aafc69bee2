/**
 * One SNS client per Lambda container. Against a local endpoint (emulator, LocalStack) it signs with
 * placeholder credentials, which those accept; on AWS the function's role signs.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import type { SnsConfig } from './config';

export function createSnsClient(config: Pick<SnsConfig, 'endpoint' | 'region'>): SNSClient {
  if (!config.endpoint) return new SNSClient({ region: config.region });
  return new SNSClient({
    region: config.region,
    endpoint: config.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });
}

let shared: SNSClient | undefined;

export function sharedSnsClient(config: Pick<SnsConfig, 'endpoint' | 'region'>): SNSClient {
  shared ??= createSnsClient(config);
  return shared;
}
