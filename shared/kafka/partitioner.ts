/**
 * The Java client's default partitioner (murmur2 of the key, positive, modulo the partition count), the same
 * choice as kafkajs's `Partitioners.DefaultPartitioner` for every key, computed with 32-bit integer
 * arithmetic instead of kafkajs's 64-bit Long objects, which cost several allocations per byte group of every
 * key. A key lands on the same partition whichever client produced it.
 */
import { randomInt } from 'node:crypto';
import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as a signed 32-bit integer. */
export function murmur2(data: Buffer): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & 3;
  if (tail === 3) h ^= data[whole + 2]! << 16;
  if (tail >= 2) h ^= data[whole + 1]! << 8;
  if (tail >= 1) h = Math.imul(h ^ data[whole]!, M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

const toPositive = (x: number) => x & 0x7fffffff;

/** The partition of a key whose murmur2 hash is known (the shipper's parse worker hashes each key once). */
export function hashPartition(hash: number, partitions: number): number {
  return toPositive(hash) % partitions;
}

/** The partition of a key among `partitions`: murmur2, made positive, modulo the count (the Java client's). */
export function keyPartition(key: Buffer | string, partitions: number): number {
  return hashPartition(murmur2(Buffer.isBuffer(key) ? key : Buffer.from(String(key))), partitions);
}

/**
 * A message's own partition if it names one; else murmur2 of its key; else round robin over the partitions
 * that have a leader (kafkajs's DefaultPartitioner behaves the same way).
 */
export const KeyHashPartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }: PartitionerArgs): number => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const { key } = message;
    if (key !== null && key !== undefined) return keyPartition(key, partitionMetadata.length);
    const counter = (counters.get(topic) ?? randomInt(2 ** 31)) + 1;
    counters.set(topic, counter);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    return available.length > 0
      ? available[toPositive(counter) % available.length]!.partitionId
      : toPositive(counter) % partitionMetadata.length;
  };
};
