/** Stops the broker only if global-setup started it. */
import { existsSync, rmSync } from 'node:fs';
import { defaultBrokerOptions, stopBroker } from '../../local-kafka/launcher';
import { STARTED_MARKER } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  if (!existsSync(STARTED_MARKER)) return;
  rmSync(STARTED_MARKER);
  await stopBroker(defaultBrokerOptions());
}
