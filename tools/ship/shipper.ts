/**
 * The shipping loop. Batches are sent while the next one is read, up to the sink's maxInFlight (1 for most
 * clients, a few for librdkafka); nothing more is read until the oldest batch in flight is acknowledged, so
 * memory stays at maxInFlight + 1 batches whatever the file size, and a slow or absent broker simply stops
 * the reading (backpressure). Batches are settled oldest first, and the checkpoint is written after each
 * one's acknowledgement, so it never passes a line that is not stored.
 */
import { logger } from '../../shared/log';
import { loadCheckpoint, saveCheckpoint, type CheckpointEntry } from './checkpoint';
import { FileReader, findCopy, findRenamed, identityOf, sameIdentity, type ReadLine } from './file-reader';
import { ShipError, type LineGroup, type Prepared, type SendCounts, type Sink } from './sinks';

export interface ShipperOptions {
  files: string[];
  follow: boolean;
  checkpointFile?: string;
  batchSize: number;
  batchMs: number;
  /** Bytes per batch at most (the ingest endpoint takes 6 MB per request). */
  batchBytes: number;
  /** How often a followed file that reached its end is looked at again. */
  pollMs: number;
  /** How long a file rotated away by rename stays open after its last new line. */
  drainMs: number;
}

export interface ShipStats {
  files: number;
  linesRead: number;
  bytesRead: number;
  sent: number;
  rejected: number;
  blank: number;
  batches: number;
  retries: number;
  rotations: number;
  /** Lines read but never acknowledged (the run was stopped while the broker was down). */
  unacknowledged: number;
}

interface Touched {
  reader: FileReader;
  offset: number;
  fingerprint: string;
  /** Lines read before a copytruncate restart of the reader must not move its checkpoint. */
  generation: number;
}

interface Batch {
  groups: Map<string, LineGroup>;
  lines: number;
  bytes: number;
  touched: Map<FileReader, Touched>;
}

interface InFlight {
  batch: Batch;
  prepared: Prepared;
  delivery: Promise<boolean>;
  /** The delivery resolved with the broker's acknowledgement. */
  acknowledged: boolean;
}

export class Shipper {
  readonly stats: ShipStats;
  private readers: FileReader[] = [];
  /** What the broker acknowledged, per reader: the checkpoint. */
  private acked = new Map<FileReader, { offset: number; fingerprint: string }>();
  /**
   * For a live reader restarted after copytruncate: the copy reader that holds each earlier generation's
   * lines, so that batches of that generation still in flight are acknowledged in the copy.
   */
  private copies = new Map<FileReader, Map<number, FileReader>>();
  /** Batches sent and not committed yet, oldest first. */
  private inFlight: InFlight[] = [];
  /** A batch was not acknowledged: none after it is committed. */
  private failed = false;
  /**
   * Readers the checkpoint holds at offset 0 of a file that was empty when it was written, so without its
   * first bytes: it is written again as soon as they are read, so that a truncation while the shipper is
   * down can be told.
   */
  private headless = new Set<FileReader>();
  private stopping = false;
  /** The set of files changed (rotation) since the checkpoint was last written. */
  private dirty = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly options: ShipperOptions,
    private readonly sink: Sink,
  ) {
    this.stats = {
      files: options.files.length,
      linesRead: 0,
      bytesRead: 0,
      sent: 0,
      rejected: 0,
      blank: 0,
      batches: 0,
      retries: 0,
      rotations: 0,
      unacknowledged: 0,
    };
  }

  /** Bytes written to the open files that are not read yet. */
  lagBytes(): number {
    let lag = 0;
    for (const r of this.readers) {
      if (r.finished) continue;
      try {
        lag += Math.max(0, r.size() - r.offset);
      } catch {
        /* closed meanwhile */
      }
    }
    return lag;
  }

  /** Finish the batch being read, wait for the one in flight, write the checkpoint, return. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  /** Opens every file, resuming from the checkpoint: throws ShipError naming a file that cannot be read. */
  open(): void {
    const saved = this.options.checkpointFile ? loadCheckpoint(this.options.checkpointFile) : [];
    for (const path of this.options.files) {
      let current;
      try {
        current = identityOf(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new ShipError(
          code === 'ENOENT'
            ? `${path}: no such file; check the path (follow mode waits for new lines, not for a file to appear)`
            : `${path}: cannot read it (${code ?? (err as Error).message})`,
        );
      }
      if (!current.isFile) throw new ShipError(`${path}: not a regular file; name the access log itself`);
      try {
        new FileReader(path, path, 0).close();
      } catch (err) {
        throw new ShipError(`${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`);
      }
      let resumedCurrent = false;
      for (const entry of saved.filter((e) => e.path === path)) {
        if (sameIdentity(entry, current)) {
          resumedCurrent = true;
          this.resume(path, path, entry, 'live');
        } else {
          const renamed = findRenamed(path, entry);
          if (renamed) this.resume(path, renamed, entry, 'draining');
          else {
            logger.warn('ship.rotated_file_gone', {
              path,
              file: entry.file,
              offset: entry.offset,
              note: 'the file read before the restart was rotated and removed; lines after this offset in it were not shipped',
            });
          }
        }
      }
      if (!resumedCurrent) this.add(new FileReader(path, path, 0), 0);
    }
  }

  private add(reader: FileReader, ackedOffset: number): void {
    // Rotated files first: their lines are older.
    if (reader.role === 'live') this.readers.push(reader);
    else this.readers.unshift(reader);
    this.acked.set(reader, { offset: ackedOffset, fingerprint: reader.fingerprint(ackedOffset) });
    this.dirty = true;
  }

  private resume(path: string, file: string, entry: CheckpointEntry, role: 'live' | 'draining'): void {
    let reader: FileReader;
    try {
      reader = new FileReader(path, file, 0, role);
    } catch (err) {
      throw new ShipError(`${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`);
    }
    // At offset 0 the file is recognised by its first bytes, when the checkpoint has them.
    const headBytes = entry.offset === 0 && entry.head ? entry.head.length / 2 : 0;
    const same =
      headBytes > 0
        ? reader.size() >= headBytes && reader.fingerprint(headBytes) === entry.head
        : reader.size() >= entry.offset && reader.fingerprint(entry.offset) === entry.fingerprint;
    reader.close();
    if (same) {
      this.add(new FileReader(path, file, entry.offset, role), entry.offset);
      return;
    }
    // Truncated (copytruncate while we were stopped) or another file on the same inode.
    if (headBytes > 0) this.truncated(path, 0, { at: headBytes, bytes: entry.head! }, entry);
    else this.truncated(path, entry.offset, { at: entry.offset, bytes: entry.fingerprint }, entry);
    this.add(new FileReader(path, file, 0, role), 0);
  }

  /**
   * After copytruncate: ship the rest of the copy from `from`, if the copy can be found (a sibling with the
   * bytes `match.bytes` before `match.at`). The copy's checkpoint starts at `acked`, what the broker had
   * acknowledged of the file before its truncation: batches of lines up to `from` may still be in flight,
   * and a restart before they are acknowledged must read them again from the copy.
   */
  private truncated(
    path: string,
    from: number,
    match: { at: number; bytes: string },
    acked: { offset: number },
  ): FileReader | undefined {
    this.stats.rotations++;
    const copy = match.at > 0 && match.bytes !== '' ? findCopy(path, match.at, match.bytes) : undefined;
    if (copy) {
      logger.info('ship.truncated', { path, copy, offset: from, acknowledged: acked.offset });
      const reader = new FileReader(path, copy, from, 'copy');
      this.add(reader, Math.min(acked.offset, from));
      return reader;
    }
    if (match.at > 0) {
      logger.warn('ship.truncated', {
        path,
        offset: from,
        note: 'no copy of the truncated file found beside it; reading the file again from its start',
      });
    }
    return undefined;
  }

  /** Follow mode, a reader at its end: rotation, truncation, or closing a drained file. */
  private look(reader: FileReader): void {
    if (reader.role === 'copy') {
      this.finish(reader);
      return;
    }
    if (reader.role === 'draining') {
      if (Date.now() - reader.lastDataAt >= this.options.drainMs) this.finish(reader);
      return;
    }
    let now;
    try {
      now = identityOf(reader.label);
    } catch {
      return; // renamed and not yet recreated: keep reading the old file
    }
    if (!sameIdentity(now, reader.identity)) {
      this.stats.rotations++;
      logger.info('ship.rotated', { path: reader.label, offset: reader.offset });
      reader.role = 'draining';
      reader.lastDataAt = Date.now();
      this.add(new FileReader(reader.label, reader.label, 0), 0);
      this.writeCheckpoint();
      return;
    }
    if (reader.truncated()) {
      const offset = reader.offset;
      const fingerprint = reader.knownFingerprint;
      const generation = reader.generation;
      const acked = this.acked.get(reader)!;
      reader.restart();
      this.acked.set(reader, { offset: 0, fingerprint: '' });
      this.dirty = true;
      const copy = this.truncated(reader.label, offset, { at: offset, bytes: fingerprint }, acked);
      if (copy) {
        const byGeneration = this.copies.get(reader) ?? new Map<number, FileReader>();
        byGeneration.set(generation, copy);
        this.copies.set(reader, byGeneration);
      }
      // At once, not at the next acknowledgement: a restart must know of the copy and of the file's new start.
      this.writeCheckpoint();
    }
  }

  /** Waits `ms`, or less when stop() is called meanwhile. */
  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      setTimeout(resolve, ms);
    });
    this.wake = undefined;
  }

  private finish(reader: FileReader): void {
    reader.finished = true;
    this.dirty = true;
  }

  private newBatch(): Batch {
    return { groups: new Map(), lines: 0, bytes: 0, touched: new Map() };
  }

  private append(batch: Batch, reader: FileReader, lines: ReadLine[]): void {
    if (lines.length === 0) return;
    let group = batch.groups.get(reader.label);
    if (!group) {
      group = { path: reader.label, lines: [], files: [], starts: [] };
      batch.groups.set(reader.label, group);
    }
    for (const line of lines) {
      group.lines.push(line.text);
      group.files.push(reader.file);
      group.starts.push(line.start);
      batch.bytes += line.end - line.start;
    }
    batch.lines += lines.length;
    this.stats.linesRead += lines.length;
    this.stats.bytesRead += lines[lines.length - 1]!.end - lines[0]!.start;
    const earlier = batch.touched.get(reader);
    if (earlier) this.rehome(batch, earlier);
    batch.touched.set(reader, {
      reader,
      offset: reader.offset,
      fingerprint: '',
      generation: reader.generation,
    });
  }

  /** The reader whose checkpoint lines read by `reader` in `generation` move: itself, or the copy after a truncation. */
  private holder(reader: FileReader, generation: number): FileReader | undefined {
    return generation === reader.generation ? reader : this.copies.get(reader)?.get(generation);
  }

  /**
   * Lines a batch read before their file was truncated are acknowledged in the copy that holds them: the
   * batch's entry for the live reader moves to the copy (dropped when no copy was found).
   */
  private rehome(batch: Batch, touched: Touched): void {
    if (touched.generation === touched.reader.generation) return;
    batch.touched.delete(touched.reader);
    const copy = this.holder(touched.reader, touched.generation);
    if (!copy) return;
    const known = batch.touched.get(copy);
    if (!known || known.offset < touched.offset) {
      batch.touched.set(copy, { ...touched, reader: copy, generation: copy.generation });
    }
  }

  /** Reads the next batch: full, or old enough, or (not following) everything there is. */
  private async collect(): Promise<Batch> {
    const { batchSize, batchBytes, batchMs, pollMs, follow } = this.options;
    const batch = this.newBatch();
    let deadline = Number.POSITIVE_INFINITY;
    for (;;) {
      let progressed = false;
      for (const reader of [...this.readers]) {
        if (reader.finished) continue;
        if (batch.lines >= batchSize || batch.bytes >= batchBytes) break;
        const { lines, eof } = reader.read(batchSize - batch.lines, batchBytes - batch.bytes);
        this.append(batch, reader, lines);
        if (lines.length > 0 && this.headless.has(reader)) this.writeCheckpoint();
        if (lines.length > 0) {
          progressed = true;
          if (deadline === Number.POSITIVE_INFINITY) deadline = Date.now() + batchMs;
        }
        if (!eof) continue;
        if (!follow || reader.role !== 'live') {
          // The file gets no more bytes: its unfinished last line is a line.
          if (!follow || reader.role === 'copy' || Date.now() - reader.lastDataAt >= this.options.drainMs) {
            const partial = reader.takePartial();
            if (partial) this.append(batch, reader, [partial]);
          }
        }
        if (!follow) this.finish(reader);
        else this.look(reader);
      }
      const full = batch.lines >= batchSize || batch.bytes >= batchBytes;
      const allDone = this.readers.every((r) => r.finished);
      if (full || (!follow && allDone) || this.stopping) break;
      if (batch.lines > 0 && Date.now() >= deadline) break;
      if (!progressed) {
        this.commitAcknowledged();
        await this.pause(Math.min(pollMs, deadline - Date.now()));
      } else {
        // Let the batch in flight make progress on the network between reads.
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    for (const touched of [...batch.touched.values()]) this.rehome(batch, touched);
    for (const touched of batch.touched.values())
      touched.fingerprint = touched.reader.fingerprint(touched.offset);
    for (const reader of this.readers) if (reader.finished) reader.close();
    return batch;
  }

  /** Sends one prepared batch until the broker takes it: backoff from 0.5 s to 10 s, forever unless stopped. */
  private async deliver(prepared: Prepared): Promise<boolean> {
    let wait = 500;
    for (;;) {
      try {
        await prepared.send();
        return true;
      } catch (err) {
        if (err instanceof ShipError) throw err;
        // Retrying cannot help a request the broker refuses as such (too large, not authorised, ...).
        const e = err as { fatal?: boolean; name?: string; retriable?: boolean; message: string };
        if (e.fatal || (e.name === 'KafkaJSProtocolError' && e.retriable === false)) {
          throw new ShipError(`${this.sink.target} refused a batch: ${e.message}`);
        }
        if (this.stopping) {
          logger.error('ship.send_failed', { target: this.sink.target, error: err });
          return false;
        }
        this.stats.retries++;
        logger.warn('ship.send_retry', { target: this.sink.target, inMs: wait, error: err });
        await this.pause(wait);
        wait = Math.min(wait * 2, 10000);
      }
    }
  }

  private commit(batch: Batch, counts: SendCounts): void {
    this.stats.sent += counts.accepted;
    this.stats.rejected += counts.rejected;
    this.stats.blank += counts.blank;
    this.stats.batches++;
    for (const t of batch.touched.values()) {
      // A batch read before its file was truncated: its lines are acknowledged in the copy.
      const reader = this.holder(t.reader, t.generation);
      const acked = reader && this.acked.get(reader);
      if (reader && acked && acked.offset <= t.offset) {
        this.acked.set(reader, { offset: t.offset, fingerprint: t.fingerprint });
      }
    }
    this.writeCheckpoint();
  }

  /**
   * Commits, oldest first, the batches in flight the broker has already acknowledged, so that the checkpoint
   * follows the acknowledgements while the shipper reads or waits for lines, rather than only when it needs
   * room for one more batch (which left it up to the batches in flight behind: more lines sent twice after
   * a kill -9, and none of them committed while a followed file got no new line).
   */
  private commitAcknowledged(): void {
    while (!this.failed && this.inFlight[0]?.acknowledged) {
      const { batch, prepared } = this.inFlight.shift()!;
      this.commit(batch, prepared.counts);
    }
  }

  private writeCheckpoint(): void {
    this.dirty = false;
    // A rotated file read to its end, every line acknowledged, leaves the checkpoint; the file a path names
    // stays, with its offset, so the next run starts there.
    this.readers = this.readers.filter((r) => {
      const done = r.finished && r.role !== 'live' && this.acked.get(r)!.offset >= r.offset;
      if (done) r.close();
      return !done;
    });
    for (const reader of [...this.acked.keys()])
      if (!this.readers.includes(reader)) this.acked.delete(reader);
    for (const [live, byGeneration] of this.copies) {
      for (const [generation, copy] of byGeneration)
        if (!this.readers.includes(copy)) byGeneration.delete(generation);
      if (byGeneration.size === 0 || !this.readers.includes(live)) this.copies.delete(live);
    }
    if (!this.options.checkpointFile) return;
    this.headless.clear();
    saveCheckpoint(
      this.options.checkpointFile,
      this.readers.map((r) => {
        const acked = this.acked.get(r)!;
        const head = acked.offset === 0 ? r.head() : '';
        if (acked.offset === 0 && !head && !r.finished) this.headless.add(r);
        return {
          path: r.label,
          file: r.file,
          dev: r.identity.dev,
          ino: r.identity.ino,
          ...acked,
          ...(head ? { head } : {}),
        };
      }),
    );
  }

  async run(): Promise<ShipStats> {
    const inFlight = this.inFlight;
    // Where every file starts, before anything is sent.
    this.writeCheckpoint();
    /** Waits for the oldest batch in flight; after a batch that was not acknowledged, none is committed. */
    const settle = async (): Promise<boolean> => {
      const oldest = inFlight.shift();
      if (!oldest) return true;
      const { batch, prepared, delivery } = oldest;
      if (!(await delivery) || this.failed) {
        this.failed = true;
        this.stats.unacknowledged += batch.lines;
        return false;
      }
      this.commit(batch, prepared.counts);
      return true;
    };
    const settleAll = async () => {
      while (inFlight.length > 0) await settle();
    };
    try {
      for (;;) {
        const batch = await this.collect();
        this.commitAcknowledged();
        // Parse and encode this batch while the previous ones are still on their way.
        const prepared = batch.lines > 0 ? this.sink.prepare([...batch.groups.values()]) : undefined;
        while (inFlight.length >= Math.max(1, this.sink.maxInFlight) || (!prepared && inFlight.length > 0)) {
          if (!(await settle())) break;
        }
        if (this.failed) {
          this.stats.unacknowledged += batch.lines;
          break;
        }
        if (prepared) {
          const sent: InFlight = { batch, prepared, delivery: this.deliver(prepared), acknowledged: false };
          sent.delivery.then(
            (acknowledged) => (sent.acknowledged = acknowledged),
            () => undefined,
          );
          inFlight.push(sent);
        } else if (this.dirty) {
          this.writeCheckpoint();
        }
        if (batch.lines === 0 && (this.stopping || this.readers.every((r) => r.finished))) break;
      }
      await settleAll();
    } catch (err) {
      // A refused batch: the others in flight end (the shipper is stopping), none of them is committed.
      this.stopping = true;
      this.failed = true;
      await Promise.allSettled(inFlight.map((f) => f.delivery));
      throw err;
    } finally {
      for (const reader of this.readers) reader.close();
    }
    return this.stats;
  }
}
