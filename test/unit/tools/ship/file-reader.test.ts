/** The reader of one log file against real files: copytruncate noticed however far the file was written again. */
import { appendFileSync, copyFileSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileReader, findCopy } from '../../../../tools/ship/file-reader';

const line = (n: number) =>
  `192.0.2.${n % 250} - - [01/Dec/2026:10:00:00 +0000] "GET /item/${n} HTTP/1.1" 200 3\n`;
const lines = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => line(from + i)).join('');

describe('FileReader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'file-reader-'));

  it('notices a truncation when the file was written again past its offset before it looked, and reads nothing of the new lines from there', () => {
    const path = join(dir, 'refilled.log');
    writeFileSync(path, lines(1, 10));
    const reader = new FileReader(path, path, 0);
    expect(reader.read(100, 1 << 20).lines).toHaveLength(10);
    const offset = reader.offset;
    const fingerprint = reader.knownFingerprint;

    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    appendFileSync(path, lines(100, 130)); // longer than what was read
    const after = reader.read(100, 1 << 20);
    expect(after.lines).toEqual([]);
    expect(after.eof).toBe(true);
    expect(reader.truncated()).toBe(true);
    expect(findCopy(path, offset, fingerprint)).toBe(`${path}.1`);

    reader.restart();
    expect(reader.truncated()).toBe(false);
    expect(reader.read(100, 1 << 20).lines.map((l) => l.text)).toEqual(lines(100, 130).trimEnd().split('\n'));
    reader.close();
  });

  it('notices a truncation that replaced the partial line it holds', () => {
    const path = join(dir, 'partial.log');
    writeFileSync(path, `${lines(1, 3)}192.0.2.9 - - [01/Dec`);
    const reader = new FileReader(path, path, 0);
    expect(reader.read(100, 1 << 20).lines).toHaveLength(3);
    truncateSync(path, 0);
    appendFileSync(path, lines(200, 230));
    expect(reader.read(100, 1 << 20).lines).toEqual([]);
    expect(reader.truncated()).toBe(true);
    reader.close();
  });

  it('reads lines appended to a file that was not truncated, a partial line finished later', () => {
    const path = join(dir, 'appended.log');
    writeFileSync(path, `${lines(1, 2)}192.0.2.3 - -`);
    const reader = new FileReader(path, path, 0);
    expect(reader.read(100, 1 << 20).lines).toHaveLength(2);
    appendFileSync(path, ` [01/Dec/2026:10:00:00 +0000] "GET /x HTTP/1.1" 200 3\n${lines(4, 5)}`);
    const next = reader.read(100, 1 << 20);
    expect(next.lines.map((l) => l.text)).toEqual([
      '192.0.2.3 - - [01/Dec/2026:10:00:00 +0000] "GET /x HTTP/1.1" 200 3',
      ...lines(4, 5).trimEnd().split('\n'),
    ]);
    expect(reader.truncated()).toBe(false);
    reader.close();
  });
});
