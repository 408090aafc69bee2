/**
 * `npm run lag [-- <group> ...]`: consumer lag of the local event source's groups (or the ones named) on the
 * broker in KAFKA_BROKERS (default the local one, on LOCAL_KAFKA_PORT or 9092).
 */
import { loadConfig } from '../../shared/config';
import { createKafka } from '../../shared/kafka/client';
import { consumerLag, formatLag } from './lag';

async function main(): Promise<number> {
  const config = loadConfig();
  const groups = process.argv.slice(2);
  const admin = createKafka(config).admin();
  try {
    await admin.connect();
  } catch (err) {
    console.error(
      `lag: Kafka does not answer at ${config.brokers.join(',')} (${(err as Error).message}); start it with npm run kafka:start`,
    );
    return 1;
  }
  try {
    const rows = await consumerLag(admin, groups.length > 0 ? { groups } : {});
    console.log(formatLag(rows, groups));
    return 0;
  } finally {
    await admin.disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`lag: ${(err as Error).message}`);
    process.exit(1);
  },
);
