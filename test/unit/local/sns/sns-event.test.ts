import {
  NotificationError,
  parseNotification,
  snsEvent,
} from '../../../../local/sns/lambda-events/sns-event';
import { isSnsEvent } from '../../../../shared/sns/message';
import { sampleEvent } from '../../../helpers/fixtures';

const notification = {
  Type: 'Notification',
  MessageId: 'm-1',
  TopicArn: 'arn:aws:sns:us-east-1:000000000000:nginx-logs',
  Message: '{"a":1}',
  Timestamp: '2024-11-11T12:10:03.000Z',
  SignatureVersion: '1',
  Signature: 'EXAMPLE',
  SigningCertURL: 'https://example.invalid/cert.pem',
  UnsubscribeURL: 'https://example.invalid/unsubscribe',
  MessageAttributes: { key: { Type: 'String', Value: '10.0.0.1' } },
};

describe('snsEvent', () => {
  it('builds the aws:sns event Lambda receives, one record per notification', () => {
    const event = snsEvent(parseNotification(JSON.stringify(notification)), 'arn:sub');
    expect(isSnsEvent(event)).toBe(true);
    expect(event.Records).toHaveLength(1);
    expect(event.Records[0]).toMatchObject({
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: 'arn:sub',
      Sns: {
        Type: 'Notification',
        MessageId: 'm-1',
        Message: '{"a":1}',
        SigningCertUrl: 'https://example.invalid/cert.pem',
        UnsubscribeUrl: 'https://example.invalid/unsubscribe',
        MessageAttributes: { key: { Type: 'String', Value: '10.0.0.1' } },
      },
    });
  });

  it('has the keys of the sample event for sls invoke local', () => {
    const sample = sampleEvent<{ Records: Array<{ Sns: object }> }>('sns-nginx-logs.json');
    const built = snsEvent(notification, 'arn:sub');
    expect(Object.keys(built.Records[0]!.Sns).sort()).toEqual(Object.keys(sample.Records[0]!.Sns).sort());
  });

  it.each([
    ['not json', /not JSON/],
    ['{}', /no Type/],
    [JSON.stringify({ ...notification, Message: undefined }), /no Message/],
  ])('rejects %s', (body, message) => {
    expect(() => parseNotification(body)).toThrow(NotificationError);
    expect(() => parseNotification(body)).toThrow(message);
  });
});
