/**
 * What a local event-source plugin shares with serverless-offline: where its lines go (the framework's log,
 * or the console when run without it), the hooks that start and stop it with `serverless offline start`
 * (or plain `serverless offline`, which lives in one hook until Ctrl-C), and serverless-offline's own
 * Lambda runner to invoke functions with. Exported as `serverless-offline-kafka/plugin-support` for other
 * event-source plugins to build on.
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

/**
 * The frame of an event-source plugin: serverless-offline's hooks call `start` and `stop`, and its lines go
 * to the framework's log. `S` is the part of the Serverless instance the plugin reads.
 */
export abstract class OfflinePlugin<S> {
  readonly hooks: Record<string, () => Promise<void>>;
  protected readonly log: SourceLog;

  constructor(
    protected readonly serverless: S,
    protected readonly cliOptions: Record<string, unknown>,
    utils?: PluginUtils,
  ) {
    this.log = utils?.log ?? consoleLog;
    this.hooks = offlineHooks(
      () => this.start(),
      () => this.stop(),
    );
  }

  protected abstract start(): Promise<void>;
  protected abstract stop(): Promise<void>;
}

export interface OfflineService {
  service: {
    provider: { environment?: Record<string, unknown> };
    custom?: Record<string, unknown>;
    getFunction(key: string): unknown;
  };
}

/** A variable set in serverless.yml's provider.environment, when it is a non-empty string. */
export function providerSetting(serverless: OfflineService, name: string): string | undefined {
  const fromYaml = serverless.service.provider.environment?.[name];
  return typeof fromYaml === 'string' && fromYaml ? fromYaml : undefined;
}

/** The part of serverless-offline's Lambda runner (`serverless-offline/lambda`) a plugin holds on to. */
export interface OfflineLambdaRunner {
  cleanup(): Promise<void>;
}

export interface OfflineLambda {
  lambda: OfflineLambdaRunner;
  invoke(functionKey: string, event: unknown): Promise<unknown>;
}

/**
 * serverless-offline's own Lambda runner, with serverless-offline's options as it resolves them (its custom
 * section, then the command line), holding the given functions; `invoke` runs one of them with an event.
 */
export async function offlineLambda(
  serverless: OfflineService,
  cliOptions: Record<string, unknown>,
  functionKeys: Iterable<string>,
): Promise<OfflineLambda> {
  const { default: LambdaRunner } = await import('serverless-offline/lambda');
  const custom = (serverless.service.custom?.['serverless-offline'] ?? {}) as Record<string, unknown>;
  const lambda = new LambdaRunner(serverless, { terminateIdleLambdaTime: 60, ...custom, ...cliOptions });
  lambda.create(
    [...new Set(functionKeys)].map((functionKey) => ({
      functionKey,
      functionDefinition: serverless.service.getFunction(functionKey),
    })),
  );
  return {
    lambda,
    invoke: async (functionKey, event) => {
      const fn = lambda.get(functionKey);
      fn.setEvent(event);
      return fn.runHandler();
    },
  };
}
