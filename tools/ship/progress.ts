/** The progress line a person watching a terminal sees, and the summary every run ends with. */
import type { Shipper, ShipStats } from './shipper';

export function mebibytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

const n = (value: number) => Math.round(value).toLocaleString('en-US');

export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private lastLines = 0;
  private lastAt = Date.now();
  private shown = false;

  constructor(
    private readonly shipper: Shipper,
    enabled: boolean,
  ) {
    if (enabled) {
      this.timer = setInterval(() => this.draw(), 1000);
      this.timer.unref();
    }
  }

  private draw(): void {
    const stats = this.shipper.stats;
    const now = Date.now();
    const rate = ((stats.linesRead - this.lastLines) * 1000) / Math.max(1, now - this.lastAt);
    this.lastLines = stats.linesRead;
    this.lastAt = now;
    const line =
      `ship: ${n(stats.linesRead)} lines read (${mebibytes(stats.bytesRead)}), ${n(stats.sent)} sent, ` +
      `${n(stats.rejected)} dead-lettered · ${n(rate)} lines/s · lag ${mebibytes(this.shipper.lagBytes())}` +
      (stats.retries > 0 ? ` · ${stats.retries} retries` : '');
    process.stderr.write(`\r\u001b[2K${line}`);
    this.shown = true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.shown) process.stderr.write('\r\u001b[2K');
    this.shown = false;
  }
}

export function formatSummary(
  stats: ShipStats,
  seconds: number,
  target: string,
  deadLetterTopic: string,
): string {
  return (
    `ship: read ${n(stats.linesRead)} lines (${mebibytes(stats.bytesRead)}) from ${stats.files} ` +
    `file${stats.files === 1 ? '' : 's'} in ${seconds.toFixed(1)} s (${n(stats.linesRead / Math.max(seconds, 0.001))} lines/s); ` +
    `sent ${n(stats.sent)} to ${target}; rejected ${n(stats.rejected)} to ${deadLetterTopic}; ` +
    `blank ${n(stats.blank)}; rotations ${stats.rotations}; retries ${stats.retries}`
  );
}
