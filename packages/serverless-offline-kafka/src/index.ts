/**
 * serverless-offline knows nothing of Kafka events; this plugin is the local Kafka event source. Under
 * `serverless offline start` it runs one consumer per `msk`/`kafka` function event against a real broker,
 * in the event's consumer group, and invokes the function through serverless-offline's own Lambda runner
 * with the batches Lambda would deliver. List it before serverless-offline (and after a bundler such as
 * serverless-esbuild). Its settings: settings.ts and the README.
 */
import { kafkaEventDefinitions } from './kafka-event-definition';
import { KafkaEventSource } from './kafka-event-source';
import { kafkaClient } from './kafka-client';
import { OfflinePlugin, offlineLambda, type OfflineLambdaRunner } from './plugin-support';
import { functionArn, placeholderClusterArn, readSettings } from './settings';

interface ServerlessFunction {
  name?: string;
  timeout?: unknown;
  events?: Array<Record<string, unknown>>;
}

interface Serverless {
  service: {
    service: string;
    provider: { stage?: string; region?: unknown; timeout?: unknown; environment?: Record<string, unknown> };
    custom?: Record<string, unknown>;
    getAllFunctions(): string[];
    getFunction(key: string): ServerlessFunction;
  };
}

class ServerlessOfflineKafka extends OfflinePlugin<Serverless> {
  private sources: KafkaEventSource[] = [];
  private lambda: OfflineLambdaRunner | undefined;

  protected async start(): Promise<void> {
    const { service } = this.serverless;
    const functions = Object.fromEntries(
      service.getAllFunctions().map((key) => [key, service.getFunction(key)]),
    );
    const stage = String(this.cliOptions.stage ?? service.provider.stage ?? 'dev');
    const settings = readSettings(
      service.custom?.kafkaEventSource,
      this.cliOptions.region ?? service.provider.region,
    );
    const definitions = kafkaEventDefinitions(service.service, stage, functions, {
      providerTimeout: service.provider.timeout,
      overrides: settings.functions,
      placeholderArn: placeholderClusterArn(settings),
    });
    if (definitions.length === 0) return;

    const { lambda, invoke } = await offlineLambda(
      this.serverless,
      this.cliOptions,
      definitions.map((d) => d.functionKey),
    );
    this.lambda = lambda;

    const { brokers } = settings;
    const kafka = kafkaClient(brokers, `${service.service}-offline`, this.log);
    this.sources = definitions.map(
      (definition) =>
        new KafkaEventSource(
          definition,
          kafka,
          brokers,
          (event) => invoke(definition.functionKey, event),
          this.log,
          {
            deadLetterTopic: settings.deadLetterTopic,
            failureHeaders: settings.failureHeaders,
            functionArn: functionArn(
              settings,
              service.getFunction(definition.functionKey).name ??
                `${service.service}-${stage}-${definition.functionKey}`,
            ),
          },
        ),
    );
    try {
      await Promise.all(this.sources.map((source) => source.start()));
    } catch (err) {
      await this.stop();
      throw new Error(
        `the local Kafka event source could not reach Kafka at ${brokers.join(',')}: ${(err as Error).message}. ` +
          'Start the broker, or point custom.kafkaEventSource.brokers (or KAFKA_BROKERS) at one.',
      );
    }
  }

  protected async stop(): Promise<void> {
    const sources = this.sources;
    this.sources = [];
    await Promise.all(sources.map((source) => source.stop().catch(() => undefined)));
    await this.lambda?.cleanup();
    this.lambda = undefined;
  }
}

export = ServerlessOfflineKafka;
