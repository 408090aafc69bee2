/**
 * Preloaded into a process under measurement (`NODE_OPTIONS=--require dist/bench/memory-probe.js` with
 * MEMORY_PROBE_MS set): every MEMORY_PROBE_MS milliseconds each thread of the process — the main thread and every worker thread, where
 * serverless-offline runs handlers — prints one line `memory-probe {json}` with its V8 heap and, on the
 * main thread, the process's resident set. The soak benchmark reads these lines from the process's output.
 */
import { isMainThread, threadId } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';

export const PROBE_PREFIX = 'memory-probe ';

export interface ProbeSample {
  pid: number;
  thread: number;
  heapUsed: number;
  heapTotal: number;
  heapLimit: number;
  external: number;
  rss?: number;
}

function sample(): ProbeSample {
  const heap = getHeapStatistics();
  const usage = process.memoryUsage();
  return {
    pid: process.pid,
    thread: threadId,
    heapUsed: heap.used_heap_size,
    heapTotal: heap.total_heap_size,
    heapLimit: heap.heap_size_limit,
    external: usage.external,
    ...(isMainThread ? { rss: usage.rss } : {}),
  };
}

const everyMs = Number(process.env.MEMORY_PROBE_MS || 0);
if (everyMs > 0) {
  setInterval(() => process.stdout.write(`${PROBE_PREFIX}${JSON.stringify(sample())}\n`), everyMs).unref();
}
