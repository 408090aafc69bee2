/**
 * The AWS side of serverless.yml's stages. On the local stage it does nothing. On a stage whose params set
 * kafkaTarget=msk it, when packaging or deploying:
 *  - checks the stage's params (cluster ARN, subnets, security groups, auth, SCRAM secret and key, Redis URL,
 *    regions and accounts) and the build (esbuild target = runtime), and says what to set;
 *  - refuses values of the local environment (localhost brokers or Redis) in the stage's environment;
 *  - applies Lambda's rule that a consumer group ID is unique among an account's Kafka event sources
 *    (see planConsumerGroups);
 *  - derives each function's VPC placement, environment and least-privilege IAM role from `custom.access`
 *    (see function-access.ts) and its events;
 *  - names the SNS topics the stack creates by reference (no account number in the template);
 *  - compiles the error handling the local event source applies (retries, bisect, record age, on-failure
 *    destination) into the event source mappings, in provisioned mode as AWS requires;
 *  - adds alarms, the Redis ingress rule and optionally an MSK Serverless cluster.
 * On every stage it also applies `custom.http` (http-stage.ts): authorizers on the routes (always on AWS,
 * locally with HTTP_AUTH=on), the CORS allow-list, and on AWS the stage's throttling.
 * Dev-only: loaded by the Serverless CLI, never bundled into a function.
 */
import { kafkaEventDefinitions, type LocalOverrides } from 'serverless-offline-kafka/event-definition';
import {
  alarmResources,
  checkBuildTarget,
  CREATED_CLUSTER_ID,
  functionStatements,
  mappingErrorHandling,
  MskStageError,
  PLACEHOLDER_ACCOUNT,
  planConsumerGroups,
  readMskStageSettings,
  redisIngressResources,
  roleResource,
  serverlessClusterResource,
  type CfValue,
  type MappingErrorHandling,
  type MskEventRef,
  type MskStageSettings,
} from './aws-stage';
import {
  corsConfiguration,
  offlineCorsConfiguration,
  readHttpSettings,
  routeAuthorizer,
  throttledStage,
  withoutIdentitySource,
  READ_AUTHORIZER,
  type HttpApiEvent,
  type HttpStageSettings,
} from './http-stage';
import {
  environmentKinds,
  readAccessDeclaration,
  splitEnvironment,
  type DeclaredAccess,
} from './function-access';

interface FunctionDefinition {
  name?: string;
  handler?: string;
  events?: Array<Record<string, unknown>>;
  environment?: Record<string, unknown>;
  vpc?: unknown;
  onError?: CfValue;
  timeout?: unknown;
}

interface Serverless {
  service: {
    service: string;
    provider: {
      stage?: string;
      region?: string;
      runtime?: string;
      timeout?: unknown;
      environment?: Record<string, unknown>;
      vpc?: unknown;
      httpApi?: { cors?: unknown; authorizers?: Record<string, unknown> };
      compiledCloudFormationTemplate: { Resources: Record<string, Record<string, unknown>> };
    };
    custom?: Record<string, unknown>;
    functions: Record<string, FunctionDefinition>;
    getAllFunctions(): string[];
    getFunction(key: string): FunctionDefinition;
  };
  getProvider(name: 'aws'): {
    naming: { getLambdaLogicalId(key: string): string; getTopicLogicalId(name: string): string };
    getStage(): string;
    getRegion(): string;
  };
  classes: { Error: new (message: string) => Error };
}

interface PluginUtils {
  log: { notice(line: string): void; warning(line: string): void };
}

const SHARED_ROLE = 'IamRoleLambdaExecution';
const LOCAL_ADDRESS = /(^|[/@,\s])(localhost|127\.0\.0\.1|\[::1\])([:/,\s]|$)/;

interface MskEvent {
  arn?: unknown;
  topic?: string;
  consumerGroupId?: string;
  saslScram512?: string;
}

class MskStagePlugin {
  readonly hooks: Record<string, () => void>;
  private settings: MskStageSettings | undefined;
  private http: HttpStageSettings | undefined;
  private access: Record<string, DeclaredAccess> = {};
  /** The provider environment before it was split per function: names of topics and ARNs by variable. */
  private environment: Record<string, unknown> = {};
  /** Error handling per function, as the local event source reads it. */
  private errorHandling = new Map<string, MappingErrorHandling>();

  constructor(
    private readonly serverless: Serverless,
    _options: Record<string, unknown>,
    private readonly utils?: PluginUtils,
  ) {
    this.hooks = {
      initialize: () => this.guard(() => this.routes(), { everyStage: true }),
      'before:package:initialize': () => this.guard(() => this.prepare()),
      'after:package:compileEvents': () => this.guard(() => this.compile()),
    };
  }

  private get target(): string {
    const msk = (this.serverless.service.custom?.msk ?? {}) as Record<string, unknown>;
    return String(msk.target ?? 'local');
  }

  private guard(work: () => void, { everyStage = false } = {}): void {
    if (!everyStage && this.target !== 'msk') return;
    try {
      work();
    } catch (err) {
      if (err instanceof MskStageError) throw new this.serverless.classes.Error(err.message);
      throw err;
    }
  }

  private notice(line: string): void {
    if (this.utils) this.utils.log.notice(line);
    else console.log(line);
  }

  private mskEvents(): Array<{ functionKey: string; fn: FunctionDefinition; msk: MskEvent }> {
    const service = this.serverless.service;
    return service.getAllFunctions().flatMap((functionKey) => {
      const fn = service.getFunction(functionKey);
      return (fn.events ?? [])
        .filter((e) => e.msk && typeof e.msk === 'object')
        .map((e) => ({ functionKey, fn, msk: e.msk as MskEvent }));
    });
  }

  /** Authorizers, CORS: on every stage, before serverless offline or packaging reads the routes. */
  private routes(): void {
    const service = this.serverless.service;
    const provider = this.serverless.getProvider('aws');
    const aws = this.target === 'msk' ? { region: provider.getRegion() } : undefined;
    const raw = (service.custom?.http ?? {}) as Record<string, unknown>;
    const http = readHttpSettings(raw, provider.getStage(), aws);
    this.http = http;
    const httpApi = (service.provider.httpApi ??= {});
    httpApi.cors = aws ? corsConfiguration(http.corsOrigins) : offlineCorsConfiguration(http.corsOrigins);
    if (!http.auth) {
      delete httpApi.authorizers?.[READ_AUTHORIZER];
      return;
    }
    for (const functionKey of service.getAllFunctions()) {
      for (const event of service.getFunction(functionKey).events ?? []) {
        const route = event.httpApi as HttpApiEvent | undefined;
        if (route && typeof route === 'object') {
          const authorizer = routeAuthorizer(String(route.method ?? 'ANY'), aws !== undefined);
          if (authorizer) route.authorizer = authorizer;
        } else if (event.httpApi !== undefined) {
          throw new MskStageError(
            `function ${functionKey}: write its httpApi event as { method, path } so it can get an authorizer`,
          );
        }
      }
    }
  }

  private prepare(): void {
    const service = this.serverless.service;
    const provider = this.serverless.getProvider('aws');
    const stage = provider.getStage();
    const region = provider.getRegion();
    const environment = (service.provider.environment ??= {});

    // What each function touches, declared once (before functions are left out below).
    this.access = readAccessDeclaration(service.custom?.access, service.getAllFunctions());
    const needsRedis = Object.entries(this.access).some(([, a]) => a.redis);
    const raw = (service.custom?.msk ?? {}) as Record<string, unknown>;
    const settings = readMskStageSettings(raw, stage, { region, needsRedis });
    this.settings = settings;
    checkBuildTarget(service.provider.runtime, (service.custom?.esbuild ?? {}) as Record<string, unknown>);

    // One function per consumer group, as Lambda requires.
    const refs: MskEventRef[] = this.mskEvents().map(({ functionKey, fn, msk }) => ({
      functionKey,
      handler: String(fn.handler),
      topic: String(msk.topic),
      consumerGroupId: msk.consumerGroupId,
    }));
    for (const { functionKey, keptAs, group } of planConsumerGroups(refs).dropped) {
      delete service.functions[functionKey];
      this.notice(
        `${functionKey} is not deployed to stage ${stage}: it shares consumer group "${group}" and its handler ` +
          `with ${keptAs}, and Lambda allows one event source per group ID; ${keptAs}'s pollers split the partitions.`,
      );
    }

    // The error handling the local event source applies, read by the same code, for the mappings.
    const local = (service.custom?.kafkaEventSource ?? {}) as { functions?: LocalOverrides };
    try {
      for (const definition of kafkaEventDefinitions(service.service, stage, service.functions, {
        providerTimeout: service.provider.timeout,
        overrides: local.functions,
      })) {
        this.errorHandling.set(definition.functionKey, definition.errorHandling);
      }
    } catch (err) {
      throw new MskStageError((err as Error).message);
    }

    // The cluster: the one named by the params, or the demo cluster this stack creates (added when compiling).
    for (const { msk } of this.mskEvents()) {
      msk.arn = settings.clusterArn;
      if (settings.auth === 'scram') msk.saslScram512 = settings.scramSecretArn;
    }

    // Connection settings for Kafka, the stage's Redis; never the local environment's.
    if (!environment.KAFKA_BROKERS) delete environment.KAFKA_BROKERS; // discovered from the cluster ARN
    environment.KAFKA_AUTH = settings.auth;
    environment.MSK_CLUSTER_ARN = settings.clusterArn;
    if (settings.scramSecretArn) environment.KAFKA_SCRAM_SECRET_ARN = settings.scramSecretArn;
    if (settings.redisUrl) environment.REDIS_URL = settings.redisUrl;
    else delete environment.REDIS_URL;
    const local_ = Object.entries(environment).filter(
      ([, value]) => typeof value === 'string' && LOCAL_ADDRESS.test(value),
    );
    if (local_.length > 0) {
      throw new MskStageError(
        `stage ${stage} would deploy local addresses: ${local_.map(([k, v]) => `${k}=${String(v)}`).join(', ')}. ` +
          "Unset these variables in your shell or pass the stage's own values as --param",
      );
    }

    // SNS topics the stack creates are named by reference, so no account number is written down.
    const topics = this.stackTopics(region, String(raw.awsAccountId ?? PLACEHOLDER_ACCOUNT));
    const byRef = (value: unknown): unknown =>
      typeof value === 'string' && topics.has(value) ? topics.get(value) : value;
    for (const [name, value] of Object.entries(environment)) environment[name] = byRef(value);
    for (const functionKey of service.getAllFunctions()) {
      const fn = service.getFunction(functionKey);
      if (fn.onError) fn.onError = byRef(fn.onError) as CfValue;
    }
    this.environment = { ...environment };

    // Per function: only the environment and the network it needs.
    const kinds = Object.fromEntries(
      service
        .getAllFunctions()
        .map((key) => [key, environmentKinds(this.access[key]!, this.readsKafka(key))] as const),
    );
    const { common, perFunction } = splitEnvironment(environment, kinds);
    service.provider.environment = common;
    delete service.provider.vpc;
    for (const functionKey of service.getAllFunctions()) {
      const fn = service.getFunction(functionKey);
      fn.environment = { ...perFunction[functionKey], ...(fn.environment ?? {}) };
      if (kinds[functionKey]!.includes('kafka') || kinds[functionKey]!.includes('redis')) {
        fn.vpc = { subnetIds: settings.subnetIds, securityGroupIds: settings.securityGroupIds };
      }
    }
  }

  private readsKafka(functionKey: string): boolean {
    return this.mskEvents().some((e) => e.functionKey === functionKey);
  }

  /** Placeholder ARN → Ref for every SNS topic the stack creates (functions' `sns: <name>` events). */
  private stackTopics(region: string, account: string): Map<string, CfValue> {
    const naming = this.serverless.getProvider('aws').naming;
    const topics = new Map<string, CfValue>();
    for (const functionKey of this.serverless.service.getAllFunctions()) {
      for (const event of this.serverless.service.getFunction(functionKey).events ?? []) {
        const sns = event.sns;
        const name = typeof sns === 'string' && !sns.startsWith('arn:') ? sns : undefined;
        if (name)
          topics.set(`arn:aws:sns:${region}:${account}:${name}`, { Ref: naming.getTopicLogicalId(name) });
      }
    }
    return topics;
  }

  private compile(): void {
    const settings = this.settings;
    if (!settings) return;
    const service = this.serverless.service;
    const naming = this.serverless.getProvider('aws').naming;
    const resources = service.provider.compiledCloudFormationTemplate.Resources;
    const events = this.mskEvents();
    if (settings.createCluster) {
      const name = `${service.service}-${this.serverless.getProvider('aws').getStage()}`.slice(0, 64);
      resources[CREATED_CLUSTER_ID] = serverlessClusterResource(name, settings);
    }

    // Error handling on each mapping, as the local event source applies it.
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::Lambda::EventSourceMapping') continue;
      const properties = resource.Properties as Record<string, unknown>;
      const target = (properties.FunctionName as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0];
      const functionKey = service.getAllFunctions().find((key) => naming.getLambdaLogicalId(key) === target);
      const handling = functionKey && this.errorHandling.get(functionKey);
      if (handling) Object.assign(properties, mappingErrorHandling(handling, settings.maximumPollers));
    }

    const value = (name: string): CfValue => {
      const v = this.environment[name];
      if (v === undefined || v === '') {
        throw new MskStageError(`custom.access names ${name}, which provider.environment does not set`);
      }
      return v as CfValue;
    };
    for (const functionKey of service.getAllFunctions()) {
      const fn = service.getFunction(functionKey);
      const access = this.access[functionKey]!;
      const functionId = naming.getLambdaLogicalId(functionKey);
      const roleId = `${functionId.replace(/LambdaFunction$/, '')}IamRole`;
      const reads = events
        .filter((e) => e.functionKey === functionKey)
        .map((e) => ({ topic: String(e.msk.topic), group: e.msk.consumerGroupId }));
      const failure = this.errorHandling.get(functionKey)?.onFailure;
      const writes = access.produces.map((name) => String(value(name)));
      if (failure?.kind === 'kafka') writes.push(failure.topic);
      const publishes = access.publishes.map(value);
      if (fn.onError) publishes.push(fn.onError);
      if (failure?.kind === 'arn') publishes.push(failure.arn);
      const kafka = reads.length > 0 || writes.length > 0;
      resources[roleId] = roleResource(
        functionKey,
        functionStatements(settings, {
          functionKey,
          functionName: String(fn.name),
          reads,
          writes,
          publishes,
          secrets: access.secrets.map(value),
          kafka,
          transactions: access.transactions === true,
          vpc: kafka || access.redis,
        }),
      );
    }

    // Point every function and every event source mapping at its own role instead of the shared one.
    const roleOf = new Map(
      service
        .getAllFunctions()
        .map((key) => [
          naming.getLambdaLogicalId(key),
          `${naming.getLambdaLogicalId(key).replace(/LambdaFunction$/, '')}IamRole`,
        ]),
    );
    for (const [id, resource] of Object.entries(resources)) {
      const properties = (resource.Properties ?? {}) as Record<string, unknown>;
      const target = (properties.FunctionName as { 'Fn::GetAtt'?: [string, string] } | undefined)?.[
        'Fn::GetAtt'
      ]?.[0];
      const roleId =
        resource.Type === 'AWS::Lambda::Function' ? roleOf.get(id) : target && roleOf.get(target);
      if (Array.isArray(resource.DependsOn) && resource.DependsOn.includes(SHARED_ROLE)) {
        if (!roleId) throw new MskStageError(`${id} depends on the shared role; cannot tell whose it is`);
        resource.DependsOn = resource.DependsOn.map((d: string) => (d === SHARED_ROLE ? roleId : d));
      }
      if (resource.Type === 'AWS::Lambda::Function' && roleId) {
        properties.Role = { 'Fn::GetAtt': [roleId, 'Arn'] };
      }
    }
    delete resources[SHARED_ROLE];
    const left = JSON.stringify(resources).includes(SHARED_ROLE);
    if (left) throw new MskStageError(`the template still refers to ${SHARED_ROLE} after per-function roles`);

    if (this.http?.throttle) throttledStage(resources.HttpApiStage, this.http.throttle);
    for (const resource of Object.values(resources)) {
      if (resource.Type === 'AWS::ApiGatewayV2::Authorizer') withoutIdentitySource(resource);
    }

    Object.assign(
      resources,
      redisIngressResources(settings),
      alarmResources(
        settings,
        service.getAllFunctions().map((key) => ({
          logicalId: naming.getLambdaLogicalId(key),
          consumer: events.some((e) => e.functionKey === key),
        })),
        resources.HttpApi ? 'HttpApi' : undefined,
      ),
    );
  }
}

export = MskStagePlugin;
