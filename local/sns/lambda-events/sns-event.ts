/**
 * The event Lambda receives from SNS, built from the notification SNS posts to an HTTP subscriber. SNS puts
 * one message in each event; the fields are the ones AWS documents for `aws:sns` events.
 */
import type { SNSEvent, SNSMessageAttributes } from 'aws-lambda';

/** What SNS (or an emulator) POSTs to an HTTP subscription. */
export interface SnsNotification {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string | null;
  Message: string;
  Timestamp: string;
  SignatureVersion?: string;
  Signature?: string;
  SigningCertURL?: string;
  SigningCertUrl?: string;
  UnsubscribeURL?: string;
  UnsubscribeUrl?: string;
  SubscribeURL?: string;
  MessageAttributes?: SNSMessageAttributes;
}

export class NotificationError extends Error {}

export function parseNotification(body: string): SnsNotification {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new NotificationError('the notification is not JSON');
  }
  const n = parsed as Partial<SnsNotification>;
  if (typeof n !== 'object' || n === null || typeof n.Type !== 'string') {
    throw new NotificationError('the notification has no Type');
  }
  if (n.Type === 'Notification') {
    for (const field of ['MessageId', 'TopicArn', 'Message', 'Timestamp'] as const) {
      if (typeof n[field] !== 'string') throw new NotificationError(`the notification has no ${field}`);
    }
  }
  return n as SnsNotification;
}

export function snsEvent(notification: SnsNotification, subscriptionArn: string): SNSEvent {
  return {
    Records: [
      {
        EventVersion: '1.0',
        EventSubscriptionArn: subscriptionArn,
        EventSource: 'aws:sns',
        Sns: {
          SignatureVersion: notification.SignatureVersion ?? '1',
          Timestamp: notification.Timestamp,
          Signature: notification.Signature ?? 'EXAMPLE',
          SigningCertUrl: notification.SigningCertURL ?? notification.SigningCertUrl ?? 'EXAMPLE',
          MessageId: notification.MessageId,
          Message: notification.Message,
          MessageAttributes: notification.MessageAttributes ?? {},
          Type: 'Notification',
          UnsubscribeUrl: notification.UnsubscribeURL ?? notification.UnsubscribeUrl ?? 'EXAMPLE',
          TopicArn: notification.TopicArn,
          Subject: notification.Subject ?? undefined,
        },
      },
    ],
  } as SNSEvent;
}
