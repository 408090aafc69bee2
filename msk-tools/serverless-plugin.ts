/**
 * The AWS side of serverless.yml's stages. On the local stage it does nothing. On a stage whose params set
 * kafkaTarget=msk it, when packaging or deploying:
 *  - checks the stage's params (cluster ARN, subnets, security groups, auth, SCRAM secret) and says what to set;
 *  - applies Lambda's rule that a consumer group ID is unique among an account's Kafka event sources
 *    (see planConsumerGroups);
 *  - puts every function in the cluster's VPC, with the environment that tells shared/kafka how to connect;
 *  - optionally adds an MSK Serverless cluster to the stack;
 *  - replaces the one role Serverless shares between functions by one least-privilege role per function.
 * Dev-only: loaded by the Serverless CLI, never bundled into a function.
 */
import {
  CREATED_CLUSTER_ID,
  functionStatements,
  MskStageError,
  planConsumerGroups,
  readMskStageSettings,
  roleResource,
  serverlessClusterResource,
  type MskEventRef,
  type MskStageSettings,
} from './aws-stage';

interface FunctionDefinition {
  name?: string;
  handler?: string;
  events?: Array<Record<string, unknown>>;
}

interface Serverless {
  service: {
    service: string;
    provider: {
      stage?: string;
      environment?: Record<string, unknown>;
      vpc?: unknown;
      compiledCloudFormationTemplate: { Resources: Record<string, Record<string, unknown>> };
    };
    custom?: Record<string, unknown>;
    functions: Record<string, FunctionDefinition>;
    getAllFunctions(): string[];
    getFunction(key: string): FunctionDefinition;
  };
  getProvider(name: 'aws'): { naming: { getLambdaLogicalId(key: string): string }; getStage(): string };
  classes: { Error: new (message: string) => Error };
}

interface PluginUtils {
  log: { notice(line: string): void; warning(line: string): void };
}

const SHARED_ROLE = 'IamRoleLambdaExecution';

interface MskEvent {
  arn?: unknown;
  topic?: string;
  consumerGroupId?: string;
  saslScram512?: string;
}

class MskStagePlugin {
  readonly hooks: Record<string, () => void>;
  private settings: MskStageSettings | undefined;

  constructor(
    private readonly serverless: Serverless,
    _options: Record<string, unknown>,
    private readonly utils?: PluginUtils,
  ) {
    this.hooks = {
      'before:package:initialize': () => this.guard(() => this.prepare()),
      'after:package:compileEvents': () => this.guard(() => this.perFunctionRoles()),
    };
  }

  private get target(): string {
    const msk = (this.serverless.service.custom?.msk ?? {}) as Record<string, unknown>;
    return String(msk.target ?? 'local');
  }

  private guard(work: () => void): void {
    if (this.target !== 'msk') return;
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

  private warning(line: string): void {
    if (this.utils) this.utils.log.warning(line);
    else console.warn(line);
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

  private prepare(): void {
    const service = this.serverless.service;
    const stage = this.serverless.getProvider('aws').getStage();
    const settings = readMskStageSettings((service.custom?.msk ?? {}) as Record<string, unknown>, stage);
    this.settings = settings;

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

    for (const functionKey of service.getAllFunctions()) {
      if (!(functionKey in settings.writes)) {
        this.warning(
          `${functionKey} has no entry in custom.msk.writes: its role lets it produce to no topic (add the topics it writes, dead-letter topic included)`,
        );
      }
    }

    // The cluster: the one named by the params, or the demo cluster this stack creates (added with the roles).
    for (const { msk } of this.mskEvents()) {
      msk.arn = settings.clusterArn;
      if (settings.auth === 'scram') msk.saslScram512 = settings.scramSecretArn;
    }

    // Every function produces (ingest to the topic, consumers to the dead-letter topic): all run in the VPC.
    service.provider.vpc = { subnetIds: settings.subnetIds, securityGroupIds: settings.securityGroupIds };
    const environment = (service.provider.environment ??= {});
    if (!environment.KAFKA_BROKERS) delete environment.KAFKA_BROKERS; // discovered from the cluster ARN
    environment.KAFKA_AUTH = settings.auth;
    environment.MSK_CLUSTER_ARN = settings.clusterArn;
    if (settings.scramSecretArn) environment.KAFKA_SCRAM_SECRET_ARN = settings.scramSecretArn;
  }

  private perFunctionRoles(): void {
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

    for (const functionKey of service.getAllFunctions()) {
      const fn = service.getFunction(functionKey);
      const functionId = naming.getLambdaLogicalId(functionKey);
      const roleId = `${functionId.replace(/LambdaFunction$/, '')}IamRole`;
      const reads = events
        .filter((e) => e.functionKey === functionKey)
        .map((e) => ({ topic: String(e.msk.topic), group: e.msk.consumerGroupId }));
      resources[roleId] = roleResource(
        functionKey,
        functionStatements(settings, {
          functionKey,
          functionName: String(fn.name),
          reads,
          writes: settings.writes[functionKey] ?? [],
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
  }
}

export = MskStagePlugin;
