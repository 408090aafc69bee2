/**
 * Preloaded into a process under measurement (`NODE_OPTIONS=--require dist/lab/load/memory-probe.js` with
 * MEMORY_PROBE_MS set): every MEMORY_PROBE_MS milliseconds each thread of the process — the main thread and
 * every worker thread, where serverless-offline runs handlers — prints one line `memory-probe {json}` with
 * its V8 heap and, on the main thread, the process's resident set. The soak reads these lines from the
 * process's output. With `--expose-gc` and MEMORY_PROBE_GC=1 each sample follows full collections, so its
 * heap is what the thread still holds, not what it has yet to collect.
 */
import { isMainThread, threadId } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';

export const PROBE_PREFIX = 'memory-probe ';

export interface ProbeSample {
  pid: number;
  thread: number;
  /** When the sample was taken (ms since the epoch). */
  at: number;
  heapUsed: number;
  heapTotal: number;
  heapLimit: number;
  external: number;
  /** Whether full collections ran just before the sample. */
  collected: boolean;
  rss?: number;
}

const gc = process.env.MEMORY_PROBE_GC === '1' ? (globalThis as { gc?: () => void }).gc : undefined;
/**
 * Two full collections: V8 frees the memory behind dead ArrayBuffers (every Buffer) on a background thread
 * after a collection, and `external` counts it until that sweep is done; the next collection first waits for
 * it. After one collection, `external` can still count every Buffer that died since the one before (tens of
 * MiB on a busy event source); after two, it is what the thread holds.
 */
const collect = gc
  ? () => {
      gc();
      gc();
    }
  : undefined;

function sample(): ProbeSample {
  collect?.();
  const heap = getHeapStatistics();
  const usage = process.memoryUsage();
  return {
    pid: process.pid,
    thread: threadId,
    at: Date.now(),
    heapUsed: heap.used_heap_size,
    heapTotal: heap.total_heap_size,
    heapLimit: heap.heap_size_limit,
    external: usage.external,
    collected: collect !== undefined,
    ...(isMainThread ? { rss: usage.rss } : {}),
  };
}

const everyMs = Number(process.env.MEMORY_PROBE_MS || 0);
if (everyMs > 0) {
  setInterval(() => process.stdout.write(`${PROBE_PREFIX}${JSON.stringify(sample())}\n`), everyMs).unref();
}
