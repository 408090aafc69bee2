/**
 * serverless-offline knows nothing of SNS events; this plugin is the local SNS → Lambda path. Under
 * `serverless offline start` it makes sure an SNS API answers at SNS_ENDPOINT (starting the local emulator
 * there when nothing does, or using LocalStack when it runs), and subscribes every `sns` function event
 * through the SnsEventSource, which invokes the function with serverless-offline's own Lambda runner.
 * List it after serverless-esbuild and before serverless-offline.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import {
  OfflinePlugin,
  offlineLambda,
  providerSetting,
  type OfflineLambdaRunner as Lambda,
} from 'serverless-offline-kafka/plugin-support';
import { createSnsClient } from '../../shared/sns/client';
import { SNS_DEFAULTS } from '../../shared/sns/config';
import { DEFAULT_MAX_PENDING_DELIVERIES, snsAnswers, startSnsEmulator, type SnsEmulator } from './emulator';
import { snsEventDefinitions, type RawFunction } from './sns-event-definition';
import { DEFAULT_CONCURRENCY, DEFAULT_MAX_QUEUED_DELIVERIES, SnsEventSource } from './sns-event-source';

interface Serverless {
  service: {
    provider: { region?: string; environment?: Record<string, unknown> };
    custom?: Record<string, unknown>;
    getAllFunctions(): string[];
    getFunction(key: string): RawFunction;
  };
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const DEFAULT_ENDPOINT = 'http://127.0.0.1:4002';

class ServerlessOfflineSnsEvents extends OfflinePlugin<Serverless> {
  private source: SnsEventSource | undefined;
  private emulator: SnsEmulator | undefined;
  private client: SNSClient | undefined;
  private lambda: Lambda | undefined;

  private setting(name: string, fallback: string): string {
    return providerSetting(this.serverless, name) ?? (process.env[name] || fallback);
  }

  /** A setting that must be a whole number above 0, refused with a message otherwise. */
  private count(name: string, fallback: number): number {
    const raw = this.setting(name, String(fallback));
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`${name} must be a whole number above 0, not ${JSON.stringify(raw)}`);
    }
    return value;
  }

  /**
   * Where SNS answers. SNS_ENDPOINT set by the user is used as it is (LocalStack, or an emulator started
   * there). Otherwise the emulator starts on the default port, or, when that is taken (another
   * `serverless offline`), on a free one, and the functions are given that endpoint.
   */
  private async snsEndpoint(region: string): Promise<string> {
    const chosen = process.env.SNS_ENDPOINT;
    const endpoint = this.setting('SNS_ENDPOINT', DEFAULT_ENDPOINT);
    if (chosen && (await snsAnswers(endpoint, region))) {
      this.log.notice(`sns: using the SNS API at ${endpoint}`);
      return endpoint;
    }
    const url = new URL(endpoint);
    const maxPendingDeliveries = this.count('SNS_EMULATOR_MAX_PENDING', DEFAULT_MAX_PENDING_DELIVERIES);
    if (!LOCAL_HOSTS.has(url.hostname)) {
      throw new Error(
        `no SNS API answers at SNS_ENDPOINT=${endpoint}; start it, or unset SNS_ENDPOINT to use the local emulator`,
      );
    }
    try {
      this.emulator = await startSnsEmulator({ port: Number(url.port || 80), region, maxPendingDeliveries });
    } catch (err) {
      if (chosen) throw err;
      this.emulator = await startSnsEmulator({ port: 0, region, maxPendingDeliveries });
      const environment = (this.serverless.service.provider.environment ??= {});
      environment.SNS_ENDPOINT = this.emulator.endpoint;
    }
    this.log.notice(`sns: local SNS emulator on ${this.emulator.endpoint}`);
    return this.emulator.endpoint;
  }

  protected async start(): Promise<void> {
    const { service } = this.serverless;
    const region = String(this.cliOptions.region ?? service.provider.region ?? SNS_DEFAULTS.region);
    const functions = Object.fromEntries(
      service.getAllFunctions().map((key) => [key, service.getFunction(key)]),
    );
    const definitions = snsEventDefinitions(functions, region, SNS_DEFAULTS.account);
    if (definitions.length === 0) return;

    const endpoint = await this.snsEndpoint(region);
    const { lambda, invoke } = await offlineLambda(
      this.serverless,
      this.cliOptions,
      definitions.map((d) => d.functionKey),
    );
    this.lambda = lambda;

    this.client = createSnsClient({ endpoint, region });
    this.source = new SnsEventSource(definitions, this.client, invoke, this.log, {
      retryDelayMs: Number(this.setting('SNS_OFFLINE_RETRY_DELAY_MS', '1000')),
      callbackHost: this.setting('SNS_OFFLINE_CALLBACK_HOST', '127.0.0.1'),
      callbackPort: Number(this.setting('SNS_OFFLINE_CALLBACK_PORT', '0')),
      maxQueuedDeliveries: this.count('SNS_OFFLINE_MAX_QUEUED', DEFAULT_MAX_QUEUED_DELIVERIES),
      concurrency: this.count('SNS_OFFLINE_CONCURRENCY', DEFAULT_CONCURRENCY),
    });
    try {
      await this.source.start();
    } catch (err) {
      await this.stop();
      throw new Error(
        `the local SNS event source could not subscribe at ${endpoint}: ${(err as Error).message}`,
      );
    }
  }

  protected async stop(): Promise<void> {
    const source = this.source;
    this.source = undefined;
    await source?.stop().catch(() => undefined);
    this.client?.destroy();
    this.client = undefined;
    await this.emulator?.close();
    this.emulator = undefined;
    await this.lambda?.cleanup();
    this.lambda = undefined;
  }
}

export = ServerlessOfflineSnsEvents;
