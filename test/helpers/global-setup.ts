/**
 * Integration and end-to-end tests need a real broker: use KAFKA_BROKERS if set, reuse a broker that
 * answers, or start the project's local one (and have global-teardown stop it again).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultBrokerOptions, kafkaAnswers, startBroker } from '../../local-kafka/launcher';

export const STARTED_MARKER = join(__dirname, '..', '..', '.kafka', 'started-by-tests');

export default async function globalSetup(): Promise<void> {
  if (process.env.KAFKA_BROKERS) return;
  const options = defaultBrokerOptions();
  const brokers = [`127.0.0.1:${options.port}`];
  // Tests, and the serverless offline processes they start, all read KAFKA_BROKERS.
  process.env.KAFKA_BROKERS = brokers.join(',');
  if (await kafkaAnswers(brokers)) return;
  console.log('\nStarting the local Kafka broker for the integration tests...');
  await startBroker({ ...options, say: (line) => console.log(line) }, {});
  writeFileSync(STARTED_MARKER, new Date().toISOString());
}
