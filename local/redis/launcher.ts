/**
 * The local Redis that holds the analytics and alert state, started the way the broker is:
 *
 *  1. a Redis answers on REDIS_URL (default redis://127.0.0.1:6379) → it is reused;
 *  2. otherwise, when REDIS_URL is local (or unset), Debian's `redis-server` runs in the background on that
 *     port with its state in one folder (default .redis/: data with an append-only file, log, pid file).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { DEFAULT_REDIS_URL } from '../../shared/store/redis';
import { stopByPidFile } from '../common/pid-file';
import { projectRoot } from '../common/project-root';

const run = promisify(execFile);

export class RedisLauncherError extends Error {}

export interface RedisOptions {
  url: string;
  /** State folder: data, log, pid file. */
  dir: string;
  say?: (line: string) => void;
}

/** REDIS_URL if set; else 127.0.0.1 on LOCAL_REDIS_PORT (default 6379). State in LOCAL_REDIS_DIR (.redis). */
export function defaultRedisOptions(env: NodeJS.ProcessEnv = process.env): RedisOptions {
  let url = env.REDIS_URL;
  if (!url) {
    const port = Number(env.LOCAL_REDIS_PORT || 6379);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RedisLauncherError(`LOCAL_REDIS_PORT must be a port number, not ${env.LOCAL_REDIS_PORT}`);
    }
    url = port === 6379 ? DEFAULT_REDIS_URL : `redis://127.0.0.1:${port}`;
  }
  return { url, dir: resolve(projectRoot(), env.LOCAL_REDIS_DIR || '.redis') };
}

/** True when a Redis server answers PING at the URL. */
export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

const paths = (dir: string) => ({
  data: join(dir, 'data'),
  log: join(dir, 'redis.log'),
  pid: join(dir, 'redis.pid'),
});

function localPort(url: string): number {
  const parsed = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) {
    throw new RedisLauncherError(
      `no Redis answers at ${url}, and it is not on this machine, so it cannot be started here; ` +
        'check REDIS_URL or unset it to use a local one',
    );
  }
  return Number(parsed.port || 6379);
}

async function redisServerPath(): Promise<string> {
  try {
    await run('redis-server', ['--version'], { timeout: 5000 });
    return 'redis-server';
  } catch {
    throw new RedisLauncherError(
      'redis-server is not installed; install it (Debian: apt-get install redis-server) or set REDIS_URL to a running Redis',
    );
  }
}

export interface StartedRedis {
  url: string;
  how: 'reused' | 'started';
}

export async function startRedis(options: RedisOptions): Promise<StartedRedis> {
  if (await redisAnswers(options.url)) return { url: options.url, how: 'reused' };
  const port = localPort(options.url);
  const command = await redisServerPath();
  const p = paths(options.dir);
  mkdirSync(p.data, { recursive: true });
  options.say?.(`starting redis-server on 127.0.0.1:${port} (state in ${options.dir})`);
  const child = spawn(
    command,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      p.data,
      '--appendonly',
      'yes',
      '--save',
      '',
      '--daemonize',
      'yes',
      '--pidfile',
      p.pid,
      '--logfile',
      p.log,
    ],
    { stdio: 'ignore' },
  );
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  if (code !== 0) throw new RedisLauncherError(`redis-server exited with ${code}; see ${p.log}`);
  const until = Date.now() + 15000;
  while (Date.now() < until) {
    if (await redisAnswers(options.url)) return { url: options.url, how: 'started' };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new RedisLauncherError(`redis-server did not answer on ${options.url} within 15 s; see ${p.log}`);
}

/** Stops the redis-server this project started (found by its pid file); one it reused is left alone. */
export async function stopRedis(options: RedisOptions): Promise<'stopped' | 'not-running'> {
  return stopByPidFile(paths(options.dir).pid, 'redis-server', 10000);
}
