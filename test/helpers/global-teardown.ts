/** Stops the broker and Redis only if global-setup started them. */
import { existsSync, rmSync } from 'node:fs';
import { defaultBrokerOptions, stopBroker } from '../../local/kafka/launcher';
import { defaultRedisOptions, stopRedis } from '../../local/redis/launcher';
import { redisStartedMarker, startedMarker } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const redisMarker = redisStartedMarker();
  if (existsSync(redisMarker)) {
    rmSync(redisMarker);
    await stopRedis(defaultRedisOptions());
  }
  const marker = startedMarker();
  if (!existsSync(marker)) return;
  rmSync(marker);
  await stopBroker(defaultBrokerOptions());
}
