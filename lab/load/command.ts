/** A command run as a child process and measured: wall time, peak resident set, what it printed. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ChildRun {
  exitCode: number | null;
  seconds: number;
  /** Peak resident set size in MiB, read from /proc (VmHWM) just before the process ended. */
  peakRssMiB: number;
  stdout: string;
  stderr: string;
}

function peakRss(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Runs a command, timing it and sampling its peak RSS every 50 ms until it exits (at most `timeoutMs`, 10 min). */
export function measureCommand(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: string; timeoutMs?: number } = {},
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    // Killed (exit code null) once it has run this long.
    const deadline = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600000);
    let stdout = '';
    let stderr = '';
    let peak = 0;
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    if (options.stdin) child.stdin!.end(options.stdin);
    const sampler = setInterval(() => {
      peak = Math.max(peak, peakRss(child.pid!) ?? 0);
    }, 50);
    child.once('error', (err) => {
      clearInterval(sampler);
      clearTimeout(deadline);
      reject(new Error(`${command} could not run: ${err.message}`));
    });
    child.once('exit', (exitCode) => {
      clearInterval(sampler);
      clearTimeout(deadline);
      resolve({
        exitCode,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        peakRssMiB: peak,
        stdout,
        stderr,
      });
    });
  });
}
