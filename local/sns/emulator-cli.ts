/**
 * `npm run sns:emulator [-- --port 4002]`: the local SNS emulator on its own, for scripts and tests that want
 * SNS without `serverless offline`. Prints `sns emulator listening on <endpoint>` once it answers.
 * SNS_EMULATOR_MAX_PENDING sets how many deliveries may be under way before Publish is throttled.
 */
import { DEFAULT_MAX_PENDING_DELIVERIES, startSnsEmulator } from './emulator';

async function main(): Promise<void> {
  const at = process.argv.indexOf('--port');
  const raw = at === -1 ? (process.env.SNS_EMULATOR_PORT ?? '4002') : process.argv[at + 1];
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a port number (0 for any free one), not ${raw}`);
    process.exit(2);
  }
  const rawPending = process.env.SNS_EMULATOR_MAX_PENDING || String(DEFAULT_MAX_PENDING_DELIVERIES);
  const maxPendingDeliveries = Number(rawPending);
  if (!Number.isInteger(maxPendingDeliveries) || maxPendingDeliveries < 1) {
    console.error(`SNS_EMULATOR_MAX_PENDING must be a whole number above 0, not ${rawPending}`);
    process.exit(2);
  }
  const emulator = await startSnsEmulator({ port, maxPendingDeliveries });
  console.log(`sns emulator listening on ${emulator.endpoint}`);
  const stop = () => void emulator.close().then(() => process.exit(0));
  process.once('SIGINT', stop).once('SIGTERM', stop);
}

main().catch((err: Error) => {
  console.error(`sns emulator: ${err.message}`);
  process.exit(1);
});
