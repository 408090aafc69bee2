import type { SNSEventRecord } from 'aws-lambda';
import { parseCombined } from '../../../../shared/nginx/combined';
import { encodeRecord, RecordError } from '../../../../shared/record/contract';
import { loadSnsConfig, topicName } from '../../../../shared/sns/config';
import {
  ATTRIBUTE,
  decodeSnsRecord,
  snsDeadLetterMessage,
  snsMessageFromRecord,
} from '../../../../shared/sns/message';
import { sampleLog } from '../../../helpers/fixtures';

const parsed = parseCombined(sampleLog()[0]!);
if (!parsed.ok) throw new Error('sample line does not parse');

const delivered = (message: string, attributes: Record<string, string> = {}): SNSEventRecord =>
  ({
    EventSource: 'aws:sns',
    Sns: {
      Message: message,
      MessageAttributes: Object.fromEntries(
        Object.entries(attributes).map(([k, v]) => [k, { Type: 'String', Value: v }]),
      ),
    },
  }) as unknown as SNSEventRecord;

describe('SNS record contract', () => {
  it('carries the Kafka record value as the body and key and headers as attributes', () => {
    const message = snsMessageFromRecord(
      encodeRecord(parsed.record, { source: 'invoke:1', logFormat: 'combined' }),
    );
    expect(message.attributes[ATTRIBUTE.key]).toEqual({ DataType: 'String', StringValue: '192.168.1.1' });
    expect(message.attributes[ATTRIBUTE.source]?.StringValue).toBe('invoke:1');
    expect(message.attributes[ATTRIBUTE.version]?.StringValue).toBe('1');
    expect(decodeSnsRecord(delivered(message.body))).toEqual(parsed.record);
  });

  it('refuses a delivery that is not a record, naming what is wrong', () => {
    expect(() => decodeSnsRecord(delivered('nope'))).toThrow(RecordError);
    expect(() => decodeSnsRecord(delivered('{}'))).toThrow(/field time/);
  });

  it('puts the reason of a dead letter where Lambda puts it, ErrorMessage', () => {
    const letter = snsDeadLetterMessage({
      original: 'x',
      reason: 'bad',
      stage: 'parse',
      source: 's',
      position: 'line 2',
    });
    expect(letter.body).toBe('x');
    expect(letter.attributes.ErrorMessage?.StringValue).toBe('bad');
    expect(letter.attributes[ATTRIBUTE.position]?.StringValue).toBe('line 2');
  });
});

describe('SNS configuration', () => {
  it('defaults to the local account’s topics and no endpoint', () => {
    expect(loadSnsConfig({})).toEqual({
      endpoint: undefined,
      region: 'us-east-1',
      topicArn: 'arn:aws:sns:us-east-1:000000000000:nginx-logs',
      deadLetterTopicArn: 'arn:aws:sns:us-east-1:000000000000:nginx-logs-dlq',
    });
  });

  it('refuses a topic ARN that is not one', () => {
    expect(() => loadSnsConfig({ SNS_TOPIC_ARN: 'nginx-logs' })).toThrow(/not an SNS topic ARN/);
    expect(topicName('arn:aws:sns:eu-west-1:1:t')).toBe('t');
  });
});
