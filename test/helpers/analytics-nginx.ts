/**
 * A real nginx for the analytics tests: its own prefix folder and config on a loopback port (IPv4 and
 * IPv6), writing the predefined `combined` access log, and a client that sends raw request bytes so the log
 * holds what real, varied and hostile traffic makes nginx write.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait';

export interface RunningNginx {
  port: number;
  dir: string;
  accessLog: string;
  stop(): Promise<void>;
}

const CONFIG = (dir: string, port: number) => `
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  access_log ${dir}/access.log combined;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  client_header_timeout 5s;
  server {
    listen 127.0.0.1:${port};
    listen [::1]:${port};
    root ${dir}/www;
    location = /e500 { return 500; }
    location = /e502 { return 502; }
    location = /e503 { return 503; }
    location = /moved { return 301 /; }
    location = /teapot { return 418; }
    location = /gone { return 410; }
    location = /api { return 200 '{"ok":true}'; }
    location /dav/ { return 204; }
  }
}
`;

export async function startNginx(port: number): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'nks-nginx-'));
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  mkdirSync(join(dir, 'www', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'www', 'index.html'), '<h1>hello</h1>\n');
  writeFileSync(join(dir, 'www', 'about.html'), `<p>${'about '.repeat(200)}</p>\n`);
  writeFileSync(join(dir, 'www', 'assets', 'app.js'), 'console.log(1);\n'.repeat(50));
  writeFileSync(join(dir, 'www', 'assets', 'site.css'), 'body{margin:0}\n'.repeat(30));
  writeFileSync(join(dir, 'www', 'assets', 'logo.png'), Buffer.alloc(777, 1));
  writeFileSync(join(dir, 'www', 'robots.txt'), 'User-agent: *\n');
  writeFileSync(join(dir, 'nginx.conf'), CONFIG(dir, port));
  const child: ChildProcess = spawn(
    'nginx',
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  let exited = false;
  child.once('exit', () => (exited = true));
  await waitFor(
    async () => {
      if (exited) throw new Error(`nginx exited: ${stderr}`);
      return (await send(port, '127.0.0.1', 'GET /index.html HTTP/1.0\r\n\r\n').catch(() => '')).length > 0;
    },
    `nginx on port ${port}`,
    15000,
  );
  return {
    port,
    dir,
    accessLog: join(dir, 'access.log'),
    stop: () =>
      new Promise((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGQUIT');
      }),
  };
}

/** Sends raw bytes and resolves with the answer once nginx closes the connection. */
export function send(
  port: number,
  host: string,
  request: string | Buffer,
  timeoutMs = 10000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`no answer from nginx within ${timeoutMs} ms`));
    });
    socket.on('data', (d) => chunks.push(d));
    socket.once('error', reject);
    socket.once('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.once('connect', () => socket.write(request));
  });
}
