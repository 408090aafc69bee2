/** Stops the broker and Redis only if global-setup started them. */
import { existsSync, rmSync } from 'node:fs';
import { defaultBrokerOptions, stopBroker } from '../../local/kafka/launcher';
import { defaultRedisOptions, stopRedis } from '../../local/redis/launcher';
import { REDIS_STARTED_MARKER, STARTED_MARKER } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  if (existsSync(REDIS_STARTED_MARKER)) {
    rmSync(REDIS_STARTED_MARKER);
    await stopRedis(defaultRedisOptions());
  }
  if (!existsSync(STARTED_MARKER)) return;
  rmSync(STARTED_MARKER);
  await stopBroker(defaultBrokerOptions());
}
