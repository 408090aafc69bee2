/**
 * `serverless offline start` in a service folder, as a child process whose output the test follows: wait
 * for a line, stop it the way Ctrl-C does. Free ports for it come from freePort.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

export interface RunningOffline {
  lines: string[];
  /** Resolves with the first line (already printed or still to come) that matches. */
  waitFor(match: (line: string) => boolean, timeoutMs: number, what: string): Promise<string>;
  /** SIGINT, as Ctrl-C; SIGKILL after the grace period. Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export function startOffline(options: { cwd: string; httpPort: number; lambdaPort: number }): RunningOffline {
  const sls = require.resolve('serverless/bin/serverless.js', { paths: [options.cwd] });
  const child = spawn(
    process.execPath,
    [
      sls,
      'offline',
      'start',
      '--httpPort',
      String(options.httpPort),
      '--lambdaPort',
      String(options.lambdaPort),
    ],
    { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let exited = false;
  const onLine = (raw: string) => {
    lines.push(raw.replace(ANSI, ''));
    for (const listener of [...listeners]) listener();
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  child.once('exit', () => {
    exited = true;
    for (const listener of [...listeners]) listener();
  });

  const waitFor = (match: (line: string) => boolean, timeoutMs: number, what: string) =>
    new Promise<string>((resolve, reject) => {
      const last = () => lines.slice(-30).join('\n');
      const check = () => {
        const seen = lines.find(match);
        if (seen !== undefined) {
          done();
          resolve(seen);
        } else if (exited) {
          done();
          reject(new Error(`serverless offline exited before ${what}:\n${last()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last lines:\n${last()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  const stop = (graceMs = 20000) =>
    new Promise<number | null>((resolve) => {
      if (exited) return resolve(child.exitCode);
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', (code) => {
        clearTimeout(kill);
        resolve(code);
      });
      child.kill('SIGINT');
    });

  return { lines, waitFor, stop };
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
