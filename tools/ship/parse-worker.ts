/**
 * The parse worker (a node:worker_threads thread of the shipper): it parses and encodes the batches the main
 * thread reads, so that the main thread only reads files and hands records to the Kafka client. Started by
 * ParseWorker (parse-thread.ts) with the log format's text; each message is one batch's line groups, each
 * answer that batch encoded (encoded-batch.ts), its byte arrays transferred rather than copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compileLogFormat } from '../../shared/nginx/log-format';
import { encodeGroups, transferablesOf, type LineGroup } from './encoded-batch';

const format = compileLogFormat((workerData as { format: string }).format);

parentPort!.on('message', ({ id, groups }: { id: number; groups: LineGroup[] }) => {
  try {
    const batch = encodeGroups(groups, format.name, format.parse);
    parentPort!.postMessage({ id, batch }, transferablesOf(batch));
  } catch (err) {
    parentPort!.postMessage({ id, error: (err as Error).stack ?? String(err) });
  }
});
