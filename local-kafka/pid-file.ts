/** The pid files of the services the project starts itself (the Kafka broker, redis-server). */
import { existsSync, readFileSync } from 'node:fs';

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
