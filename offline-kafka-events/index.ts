/**
 * serverless-offline knows nothing of Kafka events; this plugin is the local Kafka event source. Under
 * `serverless offline start` it runs one consumer per `msk`/`kafka` function event against the local broker,
 * in the event's consumer group, and invokes the function through serverless-offline's own Lambda runner
 * with the batches Lambda would deliver. List it after serverless-esbuild and before serverless-offline.
 */
import type Lambda from 'serverless-offline/lambda';
import { loadConfig, splitBrokers } from '../shared/config';
import { createKafka } from '../shared/kafka/client';
import { kafkaEventDefinitions, type LocalOverrides } from './kafka-event-definition';
import { KafkaEventSource } from './kafka-event-source';
import {
  consoleLog,
  offlineHooks,
  offlineLambda,
  providerSetting,
  type PluginUtils,
  type SourceLog,
} from './plugin-support';

interface ServerlessFunction {
  name?: string;
  timeout?: unknown;
  events?: Array<Record<string, unknown>>;
}

interface Serverless {
  service: {
    service: string;
    provider: { stage?: string; timeout?: unknown; environment?: Record<string, unknown> };
    custom?: Record<string, unknown>;
    getAllFunctions(): string[];
    getFunction(key: string): ServerlessFunction;
  };
}

class ServerlessOfflineKafka {
  readonly hooks: Record<string, () => Promise<void>>;
  private sources: KafkaEventSource[] = [];
  private lambda: Lambda | undefined;
  private readonly log: SourceLog;

  constructor(
    private readonly serverless: Serverless,
    private readonly cliOptions: Record<string, unknown>,
    utils?: PluginUtils,
  ) {
    this.log = utils?.log ?? consoleLog;
    this.hooks = offlineHooks(
      () => this.start(),
      () => this.stop(),
    );
  }

  private brokers(): string[] {
    const fromYaml = providerSetting(this.serverless, 'KAFKA_BROKERS');
    return fromYaml ? splitBrokers(fromYaml) : loadConfig().brokers;
  }

  private deadLetterTopic(): string {
    return providerSetting(this.serverless, 'KAFKA_DLQ_TOPIC') ?? loadConfig().deadLetterTopic;
  }

  private async start(): Promise<void> {
    const { service } = this.serverless;
    const functions = Object.fromEntries(
      service.getAllFunctions().map((key) => [key, service.getFunction(key)]),
    );
    const stage = String(this.cliOptions.stage ?? service.provider.stage ?? 'dev');
    const local = (service.custom?.kafkaEventSource ?? {}) as { functions?: LocalOverrides };
    const definitions = kafkaEventDefinitions(service.service, stage, functions, {
      providerTimeout: service.provider.timeout,
      overrides: local.functions,
    });
    if (definitions.length === 0) return;

    const { lambda, invoke } = await offlineLambda(
      this.serverless,
      this.cliOptions,
      definitions.map((d) => d.functionKey),
    );
    this.lambda = lambda;

    const brokers = this.brokers();
    const deadLetterTopic = this.deadLetterTopic();
    const kafka = createKafka({ brokers, clientId: `${service.service}-offline` });
    this.sources = definitions.map(
      (definition) =>
        new KafkaEventSource(
          definition,
          kafka,
          brokers,
          (event) => invoke(definition.functionKey, event),
          this.log,
          { deadLetterTopic },
        ),
    );
    try {
      await Promise.all(this.sources.map((source) => source.start()));
    } catch (err) {
      await this.stop();
      throw new Error(
        `the local Kafka event source could not reach Kafka at ${brokers.join(',')}: ${(err as Error).message}. ` +
          'Start the broker with `npm run kafka:start` (or set KAFKA_BROKERS).',
      );
    }
  }

  private async stop(): Promise<void> {
    const sources = this.sources;
    this.sources = [];
    await Promise.all(sources.map((source) => source.stop().catch(() => undefined)));
    await this.lambda?.cleanup();
    this.lambda = undefined;
  }
}

export = ServerlessOfflineKafka;
