/**
 * `npm run msk -- <command>`: deployment diagnostics for the cluster the AWS stage uses.
 *   info                 cluster state, kind, version, authentication, bootstrap strings (needs MSK_CLUSTER_ARN)
 *   topics [--create]    topics and their partitions; --create makes the project's topics when missing
 *   lag [group ...]      consumer lag per group and partition (all consumer groups by default)
 * Brokers come from KAFKA_BROKERS, or are discovered from MSK_CLUSTER_ARN for KAFKA_AUTH (iam by default when
 * a cluster ARN is set) at MSK_ENDPOINT (private, or public from outside the VPC).
 */
import { KafkaClient } from '@aws-sdk/client-kafka';
import { logLevel, type Admin } from 'kafkajs';
import { table } from '../common/table';
import { consumerLag, formatLag } from '../lag/lag';
import { ensureTopics, projectTopics } from '../../shared/kafka/topics';
import { loadConfig, type PipelineConfig } from '../../shared/config';
import { connectKafka } from '../../shared/kafka/client';
import { clusterInfo, formatClusterInfo } from './cluster-info';

const USAGE = 'usage: npm run msk -- info | topics [--create] | lag [group ...]';

class CliError extends Error {}

function config(): PipelineConfig {
  const env = { ...process.env };
  if (env.MSK_CLUSTER_ARN && !env.KAFKA_AUTH) env.KAFKA_AUTH = 'iam';
  try {
    return loadConfig(env);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

async function withAdmin<T>(cfg: PipelineConfig, work: (admin: Admin) => Promise<T>): Promise<T> {
  const where = cfg.brokers.length > 0 ? cfg.brokers.join(',') : cfg.connection.clusterArn;
  let admin: Admin;
  try {
    // The CLI says what went wrong itself; kafkajs's own lines only with LOG_LEVEL=debug.
    const quiet = process.env.LOG_LEVEL === 'debug' ? {} : { logLevel: logLevel.NOTHING };
    admin = (await connectKafka(cfg, { retry: { retries: 2 }, ...quiet })).admin();
    await admin.connect();
  } catch (err) {
    throw new CliError(
      `Kafka does not answer at ${where} (${(err as Error).message}). From outside the cluster's VPC set ` +
        'MSK_ENDPOINT=public (the cluster needs public access) or run this from a host in the VPC; locally, start the broker with npm run kafka:start',
    );
  }
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

async function info(cfg: PipelineConfig): Promise<void> {
  const arn = cfg.connection.clusterArn;
  if (!arn)
    throw new CliError('info needs MSK_CLUSTER_ARN=arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>');
  const client = new KafkaClient(cfg.connection.region ? { region: cfg.connection.region } : {});
  try {
    console.log(formatClusterInfo(await clusterInfo(client, arn)));
  } catch (err) {
    throw new CliError(
      `describing ${arn} failed: ${(err as Error).message} (AWS credentials with kafka:DescribeClusterV2 and kafka:GetBootstrapBrokers are needed)`,
    );
  }
}

async function topics(cfg: PipelineConfig, create: boolean): Promise<void> {
  await withAdmin(cfg, async (admin) => {
    if (create) {
      const brokers = (await admin.describeCluster()).brokers.length;
      const outcomes = await ensureTopics(admin, projectTopics(), Math.min(3, brokers));
      for (const o of outcomes) console.log(`${o.topic}: ${o.action} (${o.partitions} partitions)`);
    }
    const names = (await admin.listTopics()).filter((t) => !t.startsWith('__')).sort();
    if (names.length === 0) {
      console.log("no topics yet: create the project's with npm run msk -- topics --create");
      return;
    }
    const metadata = (await admin.fetchTopicMetadata({ topics: names })).topics.sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    console.log(
      table([
        ['topic', 'partitions', 'replicas', 'leaders'],
        ...metadata.map((t) => [
          t.name,
          t.partitions.length,
          Math.max(...t.partitions.map((p) => p.replicas.length)),
          [...new Set(t.partitions.map((p) => p.leader))].sort().join(','),
        ]),
      ]),
    );
  });
}

async function lag(cfg: PipelineConfig, groups: string[]): Promise<void> {
  await withAdmin(cfg, async (admin) => {
    const rows = await consumerLag(admin, groups.length > 0 ? { groups } : {});
    console.log(formatLag(rows, groups));
  });
}

async function main(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  switch (command) {
    case 'info':
      return info(config());
    case 'topics':
      return topics(config(), rest.includes('--create'));
    case 'lag':
      return lag(config(), rest);
    default:
      throw new CliError(command ? `unknown command "${command}"; ${USAGE}` : USAGE);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`msk: ${(err as Error).message}`);
    process.exit(err instanceof CliError ? 2 : 1);
  },
);
