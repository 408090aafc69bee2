import { DescribeClusterV2Command, GetBootstrapBrokersCommand, KafkaClient } from '@aws-sdk/client-kafka';
import { mockClient } from 'aws-sdk-client-mock';
import { clusterInfo, formatClusterInfo } from '../../../../tools/msk/cluster-info';

const ARN = 'arn:aws:kafka:eu-west-1:123456789012:cluster/logs/0a1b2c3d-1111-2222-3333-444455556666-2';
const kafka = mockClient(KafkaClient);
beforeEach(() => kafka.reset());

it('describes a provisioned cluster with its authentication and every bootstrap string', async () => {
  kafka.on(DescribeClusterV2Command, { ClusterArn: ARN }).resolves({
    ClusterInfo: {
      ClusterName: 'logs',
      ClusterType: 'PROVISIONED',
      State: 'ACTIVE',
      Provisioned: {
        NumberOfBrokerNodes: 3,
        CurrentBrokerSoftwareInfo: { KafkaVersion: '3.9.x.kraft' },
        ClientAuthentication: { Sasl: { Iam: { Enabled: true }, Scram: { Enabled: true } } },
        BrokerNodeGroupInfo: undefined,
      },
    },
  } as never);
  kafka.on(GetBootstrapBrokersCommand, { ClusterArn: ARN }).resolves({
    BootstrapBrokerStringSaslIam: 'b-1:9098,b-2:9098',
    BootstrapBrokerStringSaslScram: 'b-1:9096',
  });
  const info = await clusterInfo(new KafkaClient({ region: 'eu-west-1' }), ARN);
  expect(info).toMatchObject({
    name: 'logs',
    state: 'ACTIVE',
    kafkaVersion: '3.9.x.kraft',
    brokerNodes: 3,
    authentication: ['IAM', 'SASL/SCRAM'],
  });
  const text = formatClusterInfo(info);
  expect(text).toContain('SaslIam: b-1:9098,b-2:9098');
  expect(text).toContain('SaslScram: b-1:9096');
  expect(text).toContain('state          ACTIVE');
});

it('describes a serverless cluster that has no endpoint yet', async () => {
  kafka.on(DescribeClusterV2Command).resolves({
    ClusterInfo: {
      ClusterName: 'demo',
      ClusterType: 'SERVERLESS',
      State: 'CREATING',
      Serverless: { VpcConfigs: [], ClientAuthentication: { Sasl: { Iam: { Enabled: true } } } },
    },
  } as never);
  kafka.on(GetBootstrapBrokersCommand).resolves({});
  const text = formatClusterInfo(await clusterInfo(new KafkaClient({ region: 'eu-west-1' }), ARN));
  expect(text).toContain('(serverless)');
  expect(text).toContain('authentication IAM');
  expect(text).toContain('none: is the cluster still being created?');
});
