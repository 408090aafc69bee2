/**
 * Checkpoints: for every file being read, its identity (device + inode), the byte offset up to which the
 * broker acknowledged every line, and the bytes just before that offset (to recognise the file after a
 * rotation, and to tell a truncated-and-refilled file from the one we read). Written atomically — a
 * temporary file, fsync, rename — and only after an acknowledgement, so a restart (also after kill -9)
 * resends at most the batch that was in flight.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

export interface CheckpointEntry {
  /** The path the user named (the records' `source`). */
  path: string;
  /** The file last read under that path: the path itself, or a rotated name. */
  file: string;
  dev: string;
  ino: string;
  offset: number;
  fingerprint: string;
  /**
   * At offset 0 there are no bytes before the offset to recognise the file by: the file's first bytes (up
   * to 64, hex) when the checkpoint was written, so that a file truncated and written again while the
   * shipper was down is told from the one it was reading, and its copy found.
   */
  head?: string;
}

export interface Checkpoint {
  version: 1;
  updated: string;
  entries: CheckpointEntry[];
}

export class CheckpointError extends Error {}

export function loadCheckpoint(path: string): CheckpointEntry[] {
  if (!existsSync(path)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CheckpointError(
      `checkpoint file ${path} is not readable JSON (${(err as Error).message}); move it away to start over`,
    );
  }
  const entries = (parsed as Partial<Checkpoint>)?.entries;
  if ((parsed as Partial<Checkpoint>)?.version !== 1 || !Array.isArray(entries)) {
    throw new CheckpointError(
      `checkpoint file ${path} is not a shipper checkpoint (version 1); move it away to start over`,
    );
  }
  return entries.filter(
    (e): e is CheckpointEntry =>
      typeof e?.path === 'string' &&
      typeof e.file === 'string' &&
      typeof e.dev === 'string' &&
      typeof e.ino === 'string' &&
      Number.isInteger(e.offset) &&
      typeof e.fingerprint === 'string' &&
      (e.head === undefined || typeof e.head === 'string'),
  );
}

export function saveCheckpoint(path: string, entries: CheckpointEntry[]): void {
  const checkpoint: Checkpoint = { version: 1, updated: new Date().toISOString(), entries };
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, `${JSON.stringify(checkpoint, null, 1)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}
