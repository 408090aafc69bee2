import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { produceError } from '../../../../shared/kafka/produce-errors';
import { RecordTooLargeError } from '../../../../shared/kafka/send-plan';

const context = { topics: ['nginx_logs'], committing: false, deadlineMs: 15000, timedOut: false };
const protocol = (type: string) =>
  new KafkaJSNumberOfRetriesExceeded(
    new KafkaJSProtocolError(
      Object.assign(new Error(`broker says ${type}`), { type, code: 0, retriable: false }),
    ),
    { retryCount: 4, retryTime: 1000 },
  );

describe('produceError names what happened and what is stored', () => {
  it('a batch the broker finds too large is not "Kafka is unavailable"', () => {
    const err = produceError(protocol('MESSAGE_TOO_LARGE'), context);
    expect(err).toMatchObject({ kind: 'too-large', stored: 'none', statusCode: 503 });
    expect(err.message).toMatch(
      /too large \(broker says MESSAGE_TOO_LARGE\); nothing of this request was stored/,
    );
    expect(produceError(new RecordTooLargeError('t', 2, 1), context).kind).toBe('too-large');
  });

  it('a missing topic and a refusal say so', () => {
    expect(produceError(protocol('UNKNOWN_TOPIC_OR_PARTITION'), context)).toMatchObject({
      kind: 'topic-missing',
    });
    expect(produceError(protocol('TOPIC_AUTHORIZATION_FAILED'), context)).toMatchObject({ kind: 'refused' });
  });

  it('too few in-sync replicas is named with the broker’s reason, not "unavailable"', () => {
    for (const type of ['NOT_ENOUGH_REPLICAS', 'NOT_ENOUGH_REPLICAS_AFTER_APPEND']) {
      const err = produceError(protocol(type), context);
      expect(err).toMatchObject({ kind: 'too-few-replicas', stored: 'none', statusCode: 503 });
      expect(err.message).toMatch(
        new RegExp(`too few in-sync replicas \\(broker says ${type}\\); nothing of this request was stored`),
      );
    }
  });

  it('a coordinator error while the cluster reports partitions short of replicas names the partitions', () => {
    const err = produceError(protocol('COORDINATOR_NOT_AVAILABLE'), {
      ...context,
      shortOfReplicas: ['nginx_logs-0 (1 of 2)', '__transaction_state-3 (1 of 2)'],
    });
    expect(err).toMatchObject({ kind: 'too-few-replicas', stored: 'none' });
    expect(err.message).toMatch(
      /too few in-sync replicas \(nginx_logs-0 \(1 of 2\), __transaction_state-3 \(1 of 2\) have fewer in-sync replicas than required; the broker answered: broker says COORDINATOR_NOT_AVAILABLE\)/,
    );
    expect(
      produceError(protocol('COORDINATOR_NOT_AVAILABLE'), { ...context, shortOfReplicas: [] }).kind,
    ).toBe('unavailable');
  });

  it('a broker that does not answer is unavailable, with the deadline when it ran out', () => {
    expect(produceError(new Error('connect ECONNREFUSED'), context).message).toMatch(/^Kafka is unavailable/);
    expect(produceError(new Error('no answer'), { ...context, timedOut: true }).message).toMatch(
      /^Kafka did not finish within 15 s/,
    );
  });

  it('a failure once the commit was sent leaves the outcome unknown', () => {
    expect(produceError(new Error('connection closed'), { ...context, committing: true })).toMatchObject({
      kind: 'commit-unknown',
      stored: 'unknown',
    });
  });
});
