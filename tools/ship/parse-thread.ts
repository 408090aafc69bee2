/**
 * The main thread's side of the parse worker (parse-worker.ts): encode() posts a batch's lines and resolves
 * with the batch encoded. Batches are answered in the order they were posted. Bounded by the shipper: it
 * posts a batch only while fewer than its in-flight limit + 1 are read and not acknowledged, so at most that
 * many wait here. Where no worker can be started, the batch is encoded on the calling thread.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CompiledLogFormat } from '../../shared/nginx/log-format';
import { encodeGroups, type EncodedBatch, type LineGroup } from './encoded-batch';

/**
 * The worker's heap: a small young generation (its garbage is the strings of one batch at a time; a small
 * one kept peak RSS and CPU per line lower in the benchmark), and an old generation far above what a batch
 * needs (at most 256 KiB of lines and their records), so that a leak would stop the worker, not grow RSS.
 */
const WORKER_HEAP = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 48 };

export interface BatchEncoder {
  encode(groups: LineGroup[]): Promise<EncodedBatch>;
  close(): Promise<void>;
}

/** Encodes on the calling thread. */
export class InlineEncoder implements BatchEncoder {
  constructor(private readonly format: CompiledLogFormat) {}
  encode(groups: LineGroup[]): Promise<EncodedBatch> {
    return Promise.resolve(encodeGroups(groups, this.format.name, this.format.parse));
  }
  async close(): Promise<void> {}
}

export class ParseWorker implements BatchEncoder {
  private readonly worker: Worker;
  private readonly waiting = new Map<
    number,
    { resolve: (b: EncodedBatch) => void; reject: (e: Error) => void }
  >();
  private nextId = 0;
  private failure: Error | undefined;

  /** `spec` is the --format text; the worker compiles it again (a compiled format cannot be posted). */
  constructor(spec: string) {
    this.worker = new Worker(join(__dirname, 'parse-worker.js'), {
      workerData: { format: spec },
      resourceLimits: WORKER_HEAP,
    });
    this.worker.on('message', (m: { id: number; batch?: EncodedBatch; error?: string }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.batch) {
        // A Buffer arrives as a plain Uint8Array: dead letters' values are made Buffers again (no copy).
        for (const d of m.batch.deadLetters) {
          const v = d.value as Uint8Array | null;
          if (v && !Buffer.isBuffer(v)) d.value = Buffer.from(v.buffer, v.byteOffset, v.length);
        }
        w.resolve(m.batch);
      } else w.reject(new Error(`the parse worker failed: ${m.error}`));
    });
    const fail = (err: Error) => {
      this.failure ??= err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the parse worker exited (${code})`)));
  }

  encode(groups: LineGroup[]): Promise<EncodedBatch> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, groups });
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the parse worker was stopped');
    await this.worker.terminate();
  }
}
