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
