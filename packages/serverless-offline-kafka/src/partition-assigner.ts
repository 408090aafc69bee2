/**
 * Round-robin partition assignment over partitions in ascending order, as Kafka's Java RoundRobinAssignor
 * does. kafkajs's built-in round robin walks partitions in broker metadata order, which can hand partitions
 * 0 and 1 to the same member; with keys on those two partitions one member of a group would see everything.
 */
import { AssignerProtocol, type Assigner, type PartitionAssigner } from 'kafkajs';

export type Assignments = Record<string, Record<string, number[]>>;

/**
 * Pure assignment: topic-partitions in (topic, partition) order go to the members subscribed to the topic,
 * in turn, members sorted by id. Every member appears in the result, with nothing if there is nothing left.
 */
export function assignRoundRobin(
  subscriptions: Record<string, string[]>,
  partitionsByTopic: Record<string, number[]>,
): Assignments {
  const members = Object.keys(subscriptions).sort();
  const result: Assignments = Object.fromEntries(members.map((m) => [m, {}]));
  let turn = 0;
  for (const topic of Object.keys(partitionsByTopic).sort()) {
    const subscribers = members.filter((m) => subscriptions[m]!.includes(topic));
    if (subscribers.length === 0) continue;
    for (const partition of [...partitionsByTopic[topic]!].sort((a, b) => a - b)) {
      const member = subscribers[turn++ % subscribers.length]!;
      (result[member]![topic] ??= []).push(partition);
    }
  }
  return result;
}

const NAME = 'SortedRoundRobinAssigner';
const VERSION = 1;

export const sortedRoundRobin: PartitionAssigner = ({ cluster }) => {
  const assigner: Assigner = {
    name: NAME,
    version: VERSION,
    async assign({ members, topics }) {
      const subscriptions: Record<string, string[]> = {};
      for (const { memberId, memberMetadata } of members) {
        subscriptions[memberId] = AssignerProtocol.MemberMetadata.decode(memberMetadata)?.topics ?? topics;
      }
      const partitionsByTopic = Object.fromEntries(
        topics.map((topic) => [topic, cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId)]),
      );
      const assignments = assignRoundRobin(subscriptions, partitionsByTopic);
      return Object.entries(assignments).map(([memberId, assignment]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: VERSION,
          assignment,
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: VERSION,
          topics,
          userData: Buffer.alloc(0),
        }),
      };
    },
  };
  return assigner;
};
