import { randomBytes } from 'node:crypto';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { KeyHashPartitioner, murmur2 } from '../../../../shared/kafka/partitioner';

// kafkajs's own murmur2 (64-bit Long arithmetic), the reference the faster one must agree with.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (
  key: Buffer,
) => number;

const partitions = (count: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 0,
    replicas: [0],
    isr: [0],
  }));

describe('murmur2', () => {
  it('gives the hash of the Java client for known keys', () => {
    // Values from Apache Kafka's UtilsTest.testMurmur2.
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(Buffer.from([97, 98, 99]))).toBe(479470107);
  });

  it('agrees with kafkajs for keys of every length up to 64 bytes, high bytes included', () => {
    for (let length = 0; length <= 64; length++) {
      for (let round = 0; round < 50; round++) {
        const key = randomBytes(length);
        expect(murmur2(key)).toBe(kafkajsMurmur2(key));
      }
    }
  });
});

describe('KeyHashPartitioner', () => {
  it('puts every key on the partition kafkajs DefaultPartitioner picks', () => {
    const ours = KeyHashPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    for (const count of [1, 3, 7, 50]) {
      const partitionMetadata = partitions(count);
      for (let i = 0; i < 500; i++) {
        const message = { key: `10.${i % 16}.${i % 256}.${(i * 31) % 256}`, value: 'x' };
        expect(ours({ topic: 't', partitionMetadata, message })).toBe(
          theirs({ topic: 't', partitionMetadata, message }),
        );
        const binary = { key: randomBytes(i % 40), value: 'x' };
        expect(ours({ topic: 't', partitionMetadata, message: binary })).toBe(
          theirs({ topic: 't', partitionMetadata, message: binary }),
        );
      }
    }
  });

  it('keeps a partition the message names', () => {
    const partition = KeyHashPartitioner()({
      topic: 't',
      partitionMetadata: partitions(3),
      message: { key: 'a', value: 'x', partition: 2 },
    });
    expect(partition).toBe(2);
  });

  it('spreads keyless messages round robin over partitions with a leader', () => {
    const pick = KeyHashPartitioner();
    const partitionMetadata = partitions(4, [1]);
    const chosen = Array.from({ length: 6 }, () =>
      pick({ topic: 't', partitionMetadata, message: { value: 'x' } }),
    );
    expect(new Set(chosen)).toEqual(new Set([0, 2, 3]));
    expect(chosen.slice(3)).toEqual(chosen.slice(0, 3));
  });
});
