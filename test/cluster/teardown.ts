/** Stops the failover tests' cluster and removes its state. */
import { rmSync } from 'node:fs';
import { clusterDir, stopCluster } from '../../local/kafka/cluster';
import { testClusterOptions } from './environment';

export default async function teardown(): Promise<void> {
  const options = testClusterOptions();
  await stopCluster(options);
  rmSync(clusterDir(options), { recursive: true, force: true });
}
