/**
 * `serverless offline start` for an end-to-end test: free HTTP and Lambda ports, the test's topics and
 * consumer-group prefix in the environment, resolved once the server is ready.
 */
import { isServerReady, startOffline, type RunningOffline } from '../../lab/demo/offline';
import { ROOT } from './fixtures';
import { freePort } from './ports';

export { isServerReady, startOffline, type RunningOffline } from '../../lab/demo/offline';

export interface TestOfflineOptions {
  topic: string;
  deadLetterTopic: string;
  /** More environment for the functions (alerts topic, store prefix, log level overrides, ...). */
  env?: NodeJS.ProcessEnv;
}

export async function startTestOffline(options: TestOfflineOptions): Promise<RunningOffline> {
  const offline = startOffline({
    cwd: ROOT,
    httpPort: await freePort(),
    lambdaPort: await freePort(),
    env: {
      KAFKA_TOPIC: options.topic,
      KAFKA_DLQ_TOPIC: options.deadLetterTopic,
      KAFKA_GROUP_PREFIX: `${options.topic}-`,
      LOG_LEVEL: 'info',
      ...options.env,
    },
  });
  await offline.waitFor(isServerReady, 120000, 'serverless offline to be ready');
  return offline;
}
