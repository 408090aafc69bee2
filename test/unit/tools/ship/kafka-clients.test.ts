import { randomBytes } from 'node:crypto';
import type { PartitionerArgs } from 'kafkajs';
import { KeyHashPartitioner } from '../../../../shared/kafka/partitioner';
import { keyPartition } from '../../../../tools/ship/kafka-clients';

describe('keyPartition', () => {
  it('puts every key on the partition the functions’ kafkajs partitioner picks', () => {
    for (const partitions of [1, 3, 7, 50]) {
      const kafkajs = KeyHashPartitioner();
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionId,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
      }));
      for (let i = 0; i < 500; i++) {
        const key = randomBytes(1 + (i % 40));
        const args = { topic: 't', partitionMetadata, message: { key, value: null } } as PartitionerArgs;
        expect(keyPartition(key, partitions)).toBe(kafkajs(args));
      }
    }
  });

  it('gives the Java client’s partitions for its published murmur2 test keys (3 partitions)', () => {
    // Utils.murmur2 of "21" is -973932308 and of "foobar" -790332482 (Kafka's UtilsTest).
    expect(keyPartition(Buffer.from('21'), 3)).toBe((-973932308 & 0x7fffffff) % 3);
    expect(keyPartition(Buffer.from('foobar'), 3)).toBe((-790332482 & 0x7fffffff) % 3);
  });
});
