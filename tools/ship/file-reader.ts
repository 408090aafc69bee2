/**
 * Reads one log file line by line from a byte offset, the way a shipper must: by file identity (device +
 * inode) rather than by name, keeping a partial last line until nginx finishes it, and noticing the two
 * kinds of rotation:
 *
 * - rename + reopen (logrotate's default, `mv access.log access.log.1; nginx -s reopen`): the name now
 *   points to a new inode. The open descriptor still reads the old file, which is drained to its end and
 *   closed once it stayed idle; the new file is read from its start.
 * - copytruncate: same inode, but the file shrank, or the bytes before our offset changed. The lines we had
 *   not read yet are in the copy; the copy is found beside the file by the bytes just before our offset
 *   (the fingerprint) and read from our offset to its end, then the truncated file from its start.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const CHUNK_BYTES = 256 * 1024;
/** A line longer than this (no newline in sight) is handed out cut, so memory stays bounded. */
export const MAX_LINE_BYTES = 64 * 1024;
const FINGERPRINT_BYTES = 64;

export interface FileIdentity {
  dev: string;
  ino: string;
}

export interface ReadLine {
  text: string;
  /** Byte offset of the line's first byte in the file. */
  start: number;
  /** Byte offset just after the line's newline. */
  end: number;
}

export function identityOf(path: string): FileIdentity & { size: number; isFile: boolean } {
  const st = statSync(path, { bigint: true });
  return { dev: String(st.dev), ino: String(st.ino), size: Number(st.size), isFile: st.isFile() };
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** The bytes before `offset` (up to 64), hex; empty at offset 0. */
export function fingerprintAt(fd: number, offset: number): string {
  if (offset <= 0) return '';
  const length = Math.min(FINGERPRINT_BYTES, offset);
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, offset - length);
  return buf.subarray(0, n).toString('hex');
}

function fingerprintOfPath(path: string, offset: number): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    return fingerprintAt(fd, offset);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Siblings a rotation may have produced: `access.log.1`, `access.log-20261201`, not compressed ones. */
function rotatedSiblings(path: string): string[] {
  const dir = dirname(path);
  const base = basename(path);
  try {
    return readdirSync(dir)
      .filter((n) => n !== base && n.startsWith(base) && !/\.(gz|bz2|xz|zst)$/.test(n))
      .map((n) => join(dir, n));
  } catch {
    return [];
  }
}

/** The rotated sibling of `path` that is the file with this identity (a rename rotation). */
export function findRenamed(path: string, identity: FileIdentity): string | undefined {
  return rotatedSiblings(path).find((p) => {
    try {
      return sameIdentity(identityOf(p), identity);
    } catch {
      return false;
    }
  });
}

/** The copy copytruncate made: a sibling at least `offset` long whose bytes before `offset` match. */
export function findCopy(path: string, offset: number, fingerprint: string): string | undefined {
  const candidates = rotatedSiblings(path)
    .map((p) => {
      try {
        const st = statSync(p);
        return st.isFile() && st.size >= offset ? { p, mtime: st.mtimeMs } : undefined;
      } catch {
        return undefined;
      }
    })
    .filter((c): c is { p: string; mtime: number } => c !== undefined)
    .sort((a, b) => b.mtime - a.mtime);
  return candidates.find((c) => fingerprintOfPath(c.p, offset) === fingerprint)?.p;
}

export type ReaderRole = 'live' | 'draining' | 'copy';

export class FileReader {
  readonly identity: FileIdentity;
  /** End of the last line handed out. */
  offset: number;
  /** live: the file the path names; draining: rotated away by rename; copy: what copytruncate left. */
  role: ReaderRole;
  /** Handed out its last line; the descriptor closes once the batch holding it is sealed. */
  finished = false;
  /** Counts restarts from byte 0 (copytruncate). */
  generation = 0;
  /** When the reader last found new bytes (for closing a drained rotated file). */
  lastDataAt = Date.now();
  private fd: number;
  private pending: Buffer | null = null;
  private known: string;
  /** A read found the bytes before our offset changed: truncated, and the rest is not read from here on. */
  private replaced = false;

  /**
   * @param label the path the user named: the `source` of every record, the key of the checkpoint
   * @param file  the file actually read (a rotated name for draining and copy readers)
   */
  constructor(
    readonly label: string,
    readonly file: string,
    startOffset: number,
    role: ReaderRole = 'live',
  ) {
    this.fd = openSync(file, 'r');
    const st = fstatSync(this.fd, { bigint: true });
    this.identity = { dev: String(st.dev), ino: String(st.ino) };
    this.offset = startOffset;
    this.role = role;
    this.known = fingerprintAt(this.fd, startOffset);
  }

  size(): number {
    return this.fd >= 0 ? fstatSync(this.fd).size : this.offset;
  }

  fingerprint(offset = this.offset): string {
    return this.fd >= 0 ? fingerprintAt(this.fd, offset) : '';
  }

  /**
   * Up to `maxLines` complete lines (and up to about `maxBytes`); `eof` when the file has no more whole lines.
   */
  read(maxLines: number, maxBytes: number): { lines: ReadLine[]; bytes: number; eof: boolean } {
    const lines: ReadLine[] = [];
    let bytes = 0;
    for (;;) {
      if (this.pending) {
        const data = this.pending;
        let start = 0;
        let nl: number;
        while (lines.length < maxLines && bytes < maxBytes && (nl = data.indexOf(10, start)) !== -1) {
          lines.push({
            text: data.toString('utf8', start, nl),
            start: this.offset,
            end: this.offset + nl - start + 1,
          });
          bytes += nl - start + 1;
          this.offset += nl - start + 1;
          start = nl + 1;
        }
        if (start > 0) {
          this.known =
            start >= FINGERPRINT_BYTES
              ? data.toString('hex', start - FINGERPRINT_BYTES, start)
              : fingerprintAt(this.fd, this.offset);
        }
        this.pending = start < data.length ? data.subarray(start) : null;
        if (lines.length >= maxLines || bytes >= maxBytes) return { lines, bytes, eof: false };
        if (this.pending && this.pending.length > MAX_LINE_BYTES) {
          const cut = this.pending;
          lines.push({ text: cut.toString('utf8'), start: this.offset, end: this.offset + cut.length });
          bytes += cut.length;
          this.offset += cut.length;
          this.pending = null;
          this.known = fingerprintAt(this.fd, this.offset);
        }
      }
      // New bytes are read in one call with the bytes before our offset and the partial line we hold, which
      // must be those we read: otherwise the file was truncated (copytruncate), maybe written again past our
      // offset already, and what lies there is not the rest of the lines we read. Checked only when at the
      // end, the lines written after a truncation could reach past our offset before the next look (the
      // shipper waiting on acknowledgements meanwhile), and the reader went on in the middle of them.
      const before = Math.min(FINGERPRINT_BYTES, this.offset);
      const held = this.pending?.length ?? 0;
      const buf = Buffer.allocUnsafe(before + held + CHUNK_BYTES);
      const n = readSync(this.fd, buf, 0, buf.length, this.offset - before);
      if (
        n < before + held ||
        buf.toString('hex', 0, before) !== this.known ||
        (held > 0 && !buf.subarray(before, before + held).equals(this.pending!))
      ) {
        this.replaced = true;
        return { lines, bytes, eof: true };
      }
      if (n === before + held) return { lines, bytes, eof: true };
      this.lastDataAt = Date.now();
      this.pending = buf.subarray(before, n);
    }
  }

  /** The unfinished last line, for a file that will get no more bytes (end of a one-off read, rotated file). */
  takePartial(): ReadLine | undefined {
    if (!this.pending || this.pending.length === 0) return undefined;
    const line = {
      text: this.pending.toString('utf8'),
      start: this.offset,
      end: this.offset + this.pending.length,
    };
    this.offset = line.end;
    this.pending = null;
    this.known = fingerprintAt(this.fd, this.offset);
    return line;
  }

  /** Starts over at byte 0 of the same file (after copytruncate). */
  restart(): void {
    this.generation++;
    this.offset = 0;
    this.pending = null;
    this.known = '';
    this.replaced = false;
  }

  /**
   * The file's first bytes (up to 64), hex: what tells the file apart at offset 0, where there are no bytes
   * before the offset (empty for an empty or closed file).
   */
  head(): string {
    return this.fd >= 0 ? fingerprintAt(this.fd, Math.min(FINGERPRINT_BYTES, this.size())) : '';
  }

  /** The bytes before our offset as we read them. */
  get knownFingerprint(): string {
    return this.known;
  }

  /** True when the bytes before our offset are no longer what we read: truncated (and maybe refilled). */
  truncated(): boolean {
    if (this.replaced) return true;
    if (this.offset === 0 || this.fd < 0) return false;
    if (this.size() < this.offset) return true;
    return this.fingerprint() !== this.known;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
