/** The pid files of the services the project starts itself (the Kafka broker, redis-server). */
import { existsSync, readFileSync, rmSync } from 'node:fs';

export function readPid(file: string): number | null {
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** True when pid is alive and its command line contains `command` (guards against a reused pid). */
export function isRunning(pid: number, command: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(command);
  } catch {
    return true; // no /proc (macOS): trust the pid file
  }
}

/**
 * Stops the process a pid file names when it is still `command`: SIGTERM, up to `graceMs` to exit, then
 * SIGKILL; the pid file goes either way. Says whether there was anything to stop.
 */
export async function stopByPidFile(
  file: string,
  command: string,
  graceMs: number,
): Promise<'stopped' | 'not-running'> {
  const pid = readPid(file);
  if (pid === null || !isRunning(pid, command)) {
    rmSync(file, { force: true });
    return 'not-running';
  }
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + graceMs;
  while (Date.now() < until && isRunning(pid, command)) await new Promise((r) => setTimeout(r, 100));
  if (isRunning(pid, command)) process.kill(pid, 'SIGKILL');
  while (isRunning(pid, command)) await new Promise((r) => setTimeout(r, 100));
  rmSync(file, { force: true });
  return 'stopped';
}
