/** Starts the failover tests' own three-broker cluster (fresh state each run) and points KAFKA_BROKERS at it. */
import { rmSync } from 'node:fs';
import { brokerAddresses, clusterDir, startCluster, stopCluster } from '../../local/kafka/cluster';
import { testClusterOptions } from './environment';

export default async function setup(): Promise<void> {
  const options = testClusterOptions();
  // Nodes a killed earlier run left behind, and their data: every run starts from an empty cluster.
  await stopCluster(options);
  rmSync(clusterDir(options), { recursive: true, force: true });
  console.log(`\nStarting a cluster of 3 brokers from port ${options.port} for the failover tests...`);
  const { brokers } = await startCluster({ ...options, say: (line) => console.log(line) });
  process.env.KAFKA_BROKERS = brokerAddresses(options).join(',');
  console.log(`cluster answering on ${brokers.join(',')}`);
}
