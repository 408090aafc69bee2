/**
 * `npm run lag [-- <group> ...]`: consumer lag of the local event source's groups (or the ones named) on the
 * broker in KAFKA_BROKERS (default the local one).
 */
import { table } from '../bench/lib';
import { loadConfig } from '../shared/config';
import { createKafka } from '../shared/kafka/client';
import { consumerLag } from './lag';

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
    if (rows.length === 0) {
      console.log(
        groups.length > 0
          ? `lag: no committed offsets for ${groups.join(', ')}`
          : 'lag: no consumer groups yet',
      );
      return 0;
    }
    console.log(
      table([
        ['group', 'topic', 'partition', 'committed', 'end', 'lag'],
        ...rows.map((r) => [r.group, r.topic, r.partition, r.committed ?? '-', r.end, r.lag]),
      ]),
    );
    const total = rows.reduce((n, r) => n + r.lag, 0);
    console.log(`\ntotal lag: ${total} record${total === 1 ? '' : 's'}`);
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
