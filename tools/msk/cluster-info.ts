/**
 * What `npm run msk -- info` prints: an MSK cluster's state, kind, Kafka version, client authentication, and
 * every bootstrap string it offers (which one the functions use depends on KAFKA_AUTH and MSK_ENDPOINT).
 */
import {
  DescribeClusterV2Command,
  GetBootstrapBrokersCommand,
  type KafkaClient,
} from '@aws-sdk/client-kafka';

export interface ClusterInfo {
  name: string;
  arn: string;
  kind: string;
  state: string;
  kafkaVersion?: string;
  brokerNodes?: number;
  authentication: string[];
  bootstrap: Array<{ field: string; brokers: string }>;
}

const enabled = (value: { Enabled?: boolean } | undefined) => value?.Enabled === true;

export async function clusterInfo(client: KafkaClient, clusterArn: string): Promise<ClusterInfo> {
  const { ClusterInfo: cluster } = await client.send(
    new DescribeClusterV2Command({ ClusterArn: clusterArn }),
  );
  if (!cluster) throw new Error(`DescribeClusterV2 returned nothing for ${clusterArn}`);
  const provisioned = cluster.Provisioned?.ClientAuthentication;
  const authentication = [
    (enabled(provisioned?.Sasl?.Iam) || enabled(cluster.Serverless?.ClientAuthentication?.Sasl?.Iam)) &&
      'IAM',
    enabled(provisioned?.Sasl?.Scram) && 'SASL/SCRAM',
    enabled(provisioned?.Tls) && 'mTLS',
    enabled(provisioned?.Unauthenticated) && 'unauthenticated',
  ].filter((a): a is string => typeof a === 'string');
  const brokers = await client.send(new GetBootstrapBrokersCommand({ ClusterArn: clusterArn }));
  const bootstrap = Object.entries(brokers)
    .filter(
      ([field, value]) => field.startsWith('BootstrapBrokerString') && typeof value === 'string' && value,
    )
    .map(([field, value]) => ({ field, brokers: value as string }));
  return {
    name: cluster.ClusterName ?? '?',
    arn: clusterArn,
    kind: cluster.ClusterType ?? '?',
    state: cluster.State ?? '?',
    kafkaVersion: cluster.Provisioned?.CurrentBrokerSoftwareInfo?.KafkaVersion,
    brokerNodes: cluster.Provisioned?.NumberOfBrokerNodes,
    authentication,
    bootstrap,
  };
}

export function formatClusterInfo(info: ClusterInfo): string {
  const lines = [
    `cluster        ${info.name} (${info.kind.toLowerCase()})`,
    `arn            ${info.arn}`,
    `state          ${info.state}`,
    ...(info.kafkaVersion ? [`kafka          ${info.kafkaVersion}`] : []),
    ...(info.brokerNodes !== undefined ? [`brokers        ${info.brokerNodes}`] : []),
    `authentication ${info.authentication.join(', ') || 'none reported'}`,
    'bootstrap:',
    ...(info.bootstrap.length > 0
      ? info.bootstrap.map(
          (b) => `  ${b.field.replace('BootstrapBrokerString', '') || 'Plaintext'}: ${b.brokers}`,
        )
      : ['  (none: is the cluster still being created?)']),
  ];
  return lines.join('\n');
}
