/**
 * A real nginx (the Debian package's /usr/sbin/nginx) for tests: its own prefix, configuration and access
 * log in a temporary directory, listening on a loopback port, in the foreground so the test owns it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portAnswers } from '../../local/kafka/launcher';
import { freePort } from './ports';
import { waitFor } from './wait';

export const NGINX = process.env.NGINX_BIN || '/usr/sbin/nginx';

export interface RunningNginx {
  dir: string;
  accessLog: string;
  port: number;
  child: ChildProcess;
  /** One request; resolves once nginx answered (it logs the line after answering, see wroteLines). */
  get(path: string): Promise<number>;
  /** `nginx -s reopen`: the master reopens its log files. */
  reopen(): void;
  stop(): Promise<void>;
}

/** TEST_NGINX_PORT picks the port (a range of your own on a shared machine); otherwise a free one. */
export async function startNginx(): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'ship-nginx-'));
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  mkdirSync(join(dir, 'temp'));
  const port = process.env.TEST_NGINX_PORT ? Number(process.env.TEST_NGINX_PORT) : await freePort();
  const accessLog = join(logs, 'access.log');
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
error_log ${join(logs, 'error.log')} warn;
events { worker_connections 64; }
http {
  access_log ${accessLog} combined;
  client_body_temp_path ${join(dir, 'temp')};
  proxy_temp_path ${join(dir, 'temp')};
  fastcgi_temp_path ${join(dir, 'temp')};
  uwsgi_temp_path ${join(dir, 'temp')};
  scgi_temp_path ${join(dir, 'temp')};
  server {
    listen 127.0.0.1:${port};
    location / { return 200 "ok\\n"; }
  }
}
`,
  );
  const child = spawn(
    NGINX,
    [
      '-p',
      dir,
      '-c',
      conf,
      '-e',
      join(logs, 'error.log'),
      '-g',
      `daemon off; pid ${join(dir, 'nginx.pid')};`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  await waitFor(
    () => child.exitCode === null && portAnswers(port),
    `nginx to listen on 127.0.0.1:${port} (see ${join(logs, 'error.log')})`,
    15000,
    50,
  );
  return {
    dir,
    accessLog,
    port,
    child,
    async get(path: string) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, {
        headers: { 'user-agent': 'ship-test' },
      });
      await response.text();
      return response.status;
    },
    reopen() {
      child.kill('SIGUSR1');
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGQUIT');
      await exited;
    },
  };
}

export function lineCount(file: string): number {
  const text = readFileSync(file, 'utf8');
  return text.length === 0 ? 0 : text.split('\n').length - 1;
}
