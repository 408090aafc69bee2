/**
 * What every local event-source plugin of the project shares with serverless-offline: where its lines go
 * (the framework's log, or the console when run without it) and the hooks that start and stop it with
 * `serverless offline start` (or plain `serverless offline`, which lives in one hook until Ctrl-C).
 */
export interface SourceLog {
  notice(line: string): void;
  warning(line: string): void;
  error(line: string): void;
}

export interface PluginUtils {
  log: SourceLog & { (line: string): void };
}

export const consoleLog: SourceLog = {
  notice: (line) => console.log(line),
  warning: (line) => console.warn(line),
  error: (line) => console.error(line),
};

export function offlineHooks(
  start: () => Promise<void>,
  stop: () => Promise<void>,
): Record<string, () => Promise<void>> {
  return {
    'offline:start:init': start,
    'offline:start:end': stop,
    // `serverless offline` (without `start`) runs its whole life in this one hook of serverless-offline.
    'offline:start': async () => {
      await start();
      const onSignal = () => void stop();
      process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    },
  };
}
