import {
  LAMBDA_ASYNC_RETRIES,
  SnsEventDefinitionError,
  snsEventDefinitions,
} from '../../../../local/sns/sns-event-definition';

const define = (fn: Record<string, unknown>) =>
  snsEventDefinitions({ fn: fn as never }, 'eu-west-1', '111111111111');

describe('snsEventDefinitions', () => {
  it('reads a topic name as a topic of the region and account, with Lambda’s retry default', () => {
    expect(define({ events: [{ sns: 'nginx-logs' }] })).toEqual([
      {
        functionKey: 'fn',
        topicArn: 'arn:aws:sns:eu-west-1:111111111111:nginx-logs',
        topicName: 'nginx-logs',
        filterPolicy: undefined,
        maximumRetryAttempts: LAMBDA_ASYNC_RETRIES,
        deadLetterTopicArn: undefined,
      },
    ]);
  });

  it('reads an ARN, arn/topicName objects, a filter policy, onError and maximumRetryAttempts', () => {
    const arn = 'arn:aws:sns:us-east-1:000000000000:other';
    const [a, b] = define({
      onError: 'arn:aws:sns:us-east-1:000000000000:dlq',
      maximumRetryAttempts: 0,
      events: [
        { sns: { arn, filterPolicy: { status: ['500'] } } },
        { sns: { topicName: 'named' } },
        { http: {} },
      ],
    });
    expect(a).toMatchObject({ topicArn: arn, topicName: 'other', filterPolicy: { status: ['500'] } });
    expect(b).toMatchObject({ topicName: 'named', maximumRetryAttempts: 0 });
    expect(b!.deadLetterTopicArn).toBe('arn:aws:sns:us-east-1:000000000000:dlq');
  });

  it.each([
    [{ events: [{ sns: {} }] }, /needs a topic name/],
    [{ events: [{ sns: { arn: 'arn:aws:sqs:us-east-1:0:q' } }] }, /not an SNS topic ARN/],
    [{ onError: 'arn:aws:sqs:us-east-1:0:q', events: [] }, /onError must be an SNS topic ARN/],
    [{ maximumRetryAttempts: 5, events: [] }, /maximumRetryAttempts must be 0, 1 or 2/],
  ])('rejects %j with a message that says what to write', (fn, message) => {
    expect(() => define(fn)).toThrow(SnsEventDefinitionError);
    expect(() => define(fn)).toThrow(message);
  });
});
