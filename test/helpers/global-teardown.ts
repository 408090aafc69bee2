/** Stops the broker and Redis only if this run's global-setup started them. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { defaultBrokerOptions, stopBroker } from '../../local/kafka/launcher';
import { defaultRedisOptions, stopRedis } from '../../local/redis/launcher';
import { redisStartedMarker, startedMarker } from './global-setup';

/** Whether this jest process left the marker (global setup and teardown run in the same one). */
function startedByThisRun(marker: string): boolean {
  return existsSync(marker) && readFileSync(marker, 'utf8').trim() === String(process.pid);
}

export default async function globalTeardown(): Promise<void> {
  const redisMarker = redisStartedMarker();
  if (startedByThisRun(redisMarker)) {
    rmSync(redisMarker);
    await stopRedis(defaultRedisOptions());
  }
  const marker = startedMarker();
  if (!startedByThisRun(marker)) return;
  rmSync(marker);
  await stopBroker(defaultBrokerOptions());
}
