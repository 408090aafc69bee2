/**
 * npm run kafka:start | kafka:stop | kafka:status — the local broker and the project's topics.
 */
import { loadConfig } from '../shared/config';
import { createKafka } from '../shared/kafka/client';
import {
  defaultBrokerOptions,
  KAFKA_VERSION,
  kafkaAnswers,
  LauncherError,
  startBroker,
  stopBroker,
} from './launcher';
import { ensureTopics, projectTopics } from './topics';

const say = (line: string) => console.log(`kafka: ${line}`);

export async function startAndCreateTopics(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const options = { ...defaultBrokerOptions(env), say };
  const started = await startBroker(options, env);
  const where = started.brokers.join(',');
  const how = {
    'existing-cluster': `using the cluster in KAFKA_BROKERS (${where})`,
    reused: `reusing the broker already answering on ${where}`,
    docker: `started with docker compose on ${where}`,
    java: `started Kafka ${KAFKA_VERSION} from Maven Central jars on ${where} (state in ${options.dir})`,
  }[started.how];
  say(how);
  const admin = createKafka({ ...loadConfig({ ...env, KAFKA_BROKERS: where }) }).admin();
  await admin.connect();
  try {
    const outcomes = await ensureTopics(admin, projectTopics(env));
    say(
      `topics ready: ${outcomes.map((o) => `${o.topic} (${o.partitions} partition${o.partitions === 1 ? '' : 's'}, ${o.action})`).join(', ')}`,
    );
  } finally {
    await admin.disconnect();
  }
  return started.brokers;
}

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'start':
      await startAndCreateTopics();
      return 0;
    case 'stop': {
      if (process.env.KAFKA_BROKERS) {
        say('KAFKA_BROKERS points at an existing cluster; nothing to stop');
        return 0;
      }
      const outcome = await stopBroker(defaultBrokerOptions());
      say(outcome === 'stopped' ? 'stopped (data kept)' : 'no broker started by this project is running');
      return 0;
    }
    case 'status': {
      const brokers = process.env.KAFKA_BROKERS
        ? loadConfig().brokers
        : [`127.0.0.1:${defaultBrokerOptions().port}`];
      const up = await kafkaAnswers(brokers);
      say(
        up
          ? `answering on ${brokers.join(',')}`
          : `not answering on ${brokers.join(',')} (npm run kafka:start)`,
      );
      return up ? 0 : 1;
    }
    default:
      console.error('usage: local-kafka start | stop | status');
      return 2;
  }
}

if (require.main === module) {
  main(process.argv[2]).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`kafka: ${err instanceof LauncherError ? err.message : (err as Error).stack}`);
      process.exit(1);
    },
  );
}
