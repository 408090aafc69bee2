import { nodeArguments } from '../../../../local/kafka/cli';
import {
  brokerAddresses,
  clusterNodes,
  CONTROLLER_ID,
  minInsyncReplicas,
  replicationFactor,
} from '../../../../local/kafka/cluster';
import { defaultBrokerOptions, serverProperties } from '../../../../local/kafka/launcher';

const options = { dir: '/state', port: 19092, nodes: 3, version: '3.9.1' };

describe('the cluster layout', () => {
  const nodes = clusterNodes(options, 'cluster-id');

  it('puts three brokers on consecutive ports and the controller on the port after them', () => {
    expect(nodes.map((n) => [n.id, n.role, n.port])).toEqual([
      [1, 'broker', 19092],
      [2, 'broker', 19093],
      [3, 'broker', 19094],
      [CONTROLLER_ID, 'controller', 19095],
    ]);
    expect(brokerAddresses(options)).toEqual(['127.0.0.1:19092', '127.0.0.1:19093', '127.0.0.1:19094']);
  });

  it('gives each broker its own rack, folder and MSK-like defaults, and shares the jars and cluster id', () => {
    const broker = serverProperties(nodes[1]!.options);
    expect(broker).toContain('process.roles=broker\n');
    expect(broker).toContain('node.id=2\n');
    expect(broker).toContain('broker.rack=az2\n');
    expect(broker).toContain(`controller.quorum.voters=${CONTROLLER_ID}@127.0.0.1:19095\n`);
    expect(broker).toContain('listeners=PLAINTEXT://127.0.0.1:19093\n');
    expect(broker).toContain('min.insync.replicas=2\n');
    expect(broker).toContain('default.replication.factor=3\n');
    expect(broker).toContain('offsets.topic.replication.factor=3\n');
    expect(broker).toContain('log.dirs=/state/cluster-19092/node-2/data\n');
    expect(nodes.every((n) => n.options.libs === '/state/libs' && n.options.clusterId === 'cluster-id')).toBe(
      true,
    );
  });

  it('leaves broker-only entries out of the controller', () => {
    const controller = serverProperties(nodes[3]!.options);
    expect(controller).toContain('process.roles=controller\n');
    expect(controller).toContain('listeners=CONTROLLER://127.0.0.1:19095\n');
    expect(controller).not.toContain('advertised.listeners');
    expect(controller).not.toContain('inter.broker.listener.name');
  });
});

it('follows MSK: replication factor 3 (or every broker), min.insync.replicas one below it', () => {
  expect([1, 2, 3, 5].map((n) => [replicationFactor(n), minInsyncReplicas(n)])).toEqual([
    [1, 1],
    [2, 1],
    [3, 2],
    [3, 2],
  ]);
});

describe('LOCAL_KAFKA_NODES and LOCAL_KAFKA_VERSION', () => {
  it('keep one node and the default version when unset', () => {
    const o = defaultBrokerOptions({});
    expect(o.nodes).toBe(1);
    expect(o.version).toBe('3.9.1');
    expect(o.dir).toMatch(/\.kafka$/);
  });

  it('keep another version apart in its own folder', () => {
    expect(defaultBrokerOptions({ LOCAL_KAFKA_VERSION: '4.4.0' }).dir).toMatch(/\.kafka\/4\.4\.0$/);
  });

  it('say what is wrong with a bad value', () => {
    expect(() => defaultBrokerOptions({ LOCAL_KAFKA_NODES: 'three' })).toThrow(/LOCAL_KAFKA_NODES must be/);
    expect(() => defaultBrokerOptions({ LOCAL_KAFKA_VERSION: 'latest' })).toThrow(
      /LOCAL_KAFKA_VERSION must be/,
    );
  });
});

describe('kafka:stop / kafka:start arguments', () => {
  it('read --node N and --kill', () => {
    expect(nodeArguments([])).toEqual({ kill: false });
    expect(nodeArguments(['--node', '2', '--kill'])).toEqual({ node: 2, kill: true });
  });

  it('refuse what they cannot do', () => {
    expect(() => nodeArguments(['--kill'])).toThrow(/--kill needs --node N/);
    expect(() => nodeArguments(['--node', 'two'])).toThrow(/--node needs a node id/);
    expect(() => nodeArguments(['--nodes', '2'])).toThrow(/unknown argument --nodes/);
  });
});
