/**
 * Runs `serverless offline start` as a child process and follows its output, for `npm start` and the
 * end-to-end tests: wait for a line, read all lines, stop it the way Ctrl-C does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface OfflineOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  httpPort?: number;
  lambdaPort?: number;
  /** Every line the child prints, stdout and stderr, ANSI colours removed. */
  onLine?: (line: string) => void;
  /** Keep only this many of the latest lines in `lines` (all by default), for long runs. */
  keepLines?: number;
}

export interface RunningOffline {
  url: string;
  lines: string[];
  /** Resolves with the first line (already printed or still to come) that matches. */
  waitFor(match: (line: string) => boolean, timeoutMs: number, what: string): Promise<string>;
  /** SIGINT, as Ctrl-C; SIGKILL after the grace period. Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  child: ChildProcess;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export function startOffline(options: OfflineOptions): RunningOffline {
  const httpPort = options.httpPort ?? 3000;
  const lambdaPort = options.lambdaPort ?? 3002;
  const sls = require.resolve('serverless/bin/serverless.js', { paths: [options.cwd] });
  const child = spawn(
    process.execPath,
    [sls, 'offline', 'start', '--httpPort', String(httpPort), '--lambdaPort', String(lambdaPort)],
    { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  const waiters = new Set<{ match: (line: string) => boolean; resolve: (line: string) => void }>();
  let exited = false;
  const exitListeners: Array<(code: number | null) => void> = [];

  const onLine = (raw: string) => {
    const line = raw.replace(ANSI, '');
    lines.push(line);
    if (options.keepLines !== undefined && lines.length > options.keepLines) lines.shift();
    options.onLine?.(line);
    for (const waiter of [...waiters]) {
      if (waiter.match(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  child.once('exit', (code) => {
    exited = true;
    for (const listener of exitListeners) listener(code);
  });

  const waitFor = (match: (line: string) => boolean, timeoutMs: number, what: string) =>
    new Promise<string>((resolve, reject) => {
      const seen = lines.find(match);
      if (seen !== undefined) return resolve(seen);
      if (exited)
        return reject(new Error(`serverless offline exited before ${what}:\n${lines.slice(-30).join('\n')}`));
      const waiter = {
        match,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; last lines:\n${lines.slice(-30).join('\n')}`,
          ),
        );
      }, timeoutMs);
      waiters.add(waiter);
      exitListeners.push(() => {
        if (!waiters.delete(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`serverless offline exited before ${what}:\n${lines.slice(-30).join('\n')}`));
      });
    });

  const stop = (graceMs = 20000) =>
    new Promise<number | null>((resolve) => {
      if (exited) return resolve(child.exitCode);
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
      exitListeners.push((code) => {
        clearTimeout(kill);
        resolve(code);
      });
      child.kill('SIGINT');
    });

  return { url: `http://localhost:${httpPort}`, lines, waitFor, stop, child };
}

export const isServerReady = (line: string) => line.includes('Server ready:');
