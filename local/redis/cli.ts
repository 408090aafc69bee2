/** npm run redis:start | redis:stop | redis:status — the local Redis holding analytics and alert state. */
import { defaultRedisOptions, redisAnswers, RedisLauncherError, startRedis, stopRedis } from './launcher';

const say = (line: string) => console.log(`redis: ${line}`);

/** Reuses or starts Redis; returns the URL the functions should use. */
export async function ensureRedis(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const options = { ...defaultRedisOptions(env), say };
  const started = await startRedis(options);
  say(
    started.how === 'reused'
      ? `reusing the Redis answering on ${started.url}`
      : `started on ${started.url} (state in ${options.dir})`,
  );
  return started.url;
}

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'start':
      await ensureRedis();
      return 0;
    case 'stop': {
      const outcome = await stopRedis(defaultRedisOptions());
      say(
        outcome === 'stopped' ? 'stopped (data kept)' : 'no redis-server started by this project is running',
      );
      return 0;
    }
    case 'status': {
      const { url } = defaultRedisOptions();
      const up = await redisAnswers(url);
      say(up ? `answering on ${url}` : `not answering on ${url} (npm run redis:start)`);
      return up ? 0 : 1;
    }
    default:
      console.error('usage: local-redis start | stop | status');
      return 2;
  }
}

if (require.main === module) {
  main(process.argv[2]).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`redis: ${err instanceof RedisLauncherError ? err.message : (err as Error).stack}`);
      process.exit(1);
    },
  );
}
