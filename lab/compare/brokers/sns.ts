/**
 * SNS: the npm emulator the project runs under `serverless offline` (serverless-offline-sns's SNS server),
 * in this process, on COMPARE_SNS_PORT. A consumer is an HTTP subscriber, as Lambda is behind SNS: it
 * acknowledges a delivery by answering 2xx. SNS keeps a message only until it is delivered; a subscriber
 * that is down when it is published does not get it later from a retained log. The emulator runs without
 * the redelivery the local SNS event source relies on (`redeliver: false`): serverless-offline-sns as shipped.
 */
import { CreateTopicCommand, SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import { createServer, type Server } from 'node:http';
import { startSnsEmulator, type SnsEmulator } from '../../../local/sns/emulator';
import { parseNotification } from '../../../local/sns/lambda-events/sns-event';
import { createSnsClient } from '../../../shared/sns/client';
import { publishAll } from '../../../shared/sns/publish';
import type { Availability, Broker, BrokerStarter, Channel, Handler, Wire } from '../broker';
import { freePort } from '../../../local/common/ports';
import { envPort, packageVersion } from './util';

class SnsBroker implements Broker {
  readonly name = 'SNS';
  private generation = 0;

  constructor(
    private emulator: SnsEmulator,
    private client: SNSClient,
    private readonly port: number,
  ) {}

  describe(): string {
    return `SNS API of serverless-offline-sns ${packageVersion('serverless-offline-sns')} (in memory); @aws-sdk/client-sns ${packageVersion('@aws-sdk/client-sns')}; HTTP subscribers`;
  }

  async channel(name: string): Promise<Channel> {
    const callbackPort = await freePort();
    const endpoint = `http://127.0.0.1:${callbackPort}/`;
    let topicArn = '';
    let generation = -1;
    const ensure = async () => {
      if (generation === this.generation) return;
      topicArn = (await this.client.send(new CreateTopicCommand({ Name: name }))).TopicArn!;
      await this.client.send(
        new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: endpoint }),
      );
      generation = this.generation;
    };
    await ensure();
    return {
      send: async (messages: Wire[]) => {
        // One Publish at a time: records enter SNS in the order they were sent, as they enter the other
        // brokers over one connection. (The publish function keeps 16 in flight, which reorders them.)
        await publishAll(
          this.client,
          messages.map((m) => ({
            topicArn,
            message: {
              body: m.body,
              attributes: {
                seq: { DataType: 'Number', StringValue: String(m.seq) },
                key: { DataType: 'String', StringValue: m.key },
                'sent-at': { DataType: 'Number', StringValue: String(m.sentAt) },
              },
            },
          })),
          1,
        );
      },
      subscribe: async (handler: Handler) => {
        await ensure();
        const server: Server = createServer((request, response) => {
          const chunks: Buffer[] = [];
          request.on('data', (c: Buffer) => chunks.push(c));
          request.on('end', () => {
            const n = parseNotification(Buffer.concat(chunks).toString('utf8'));
            const attr = (key: string) => n.MessageAttributes?.[key]?.Value ?? '';
            let acknowledged = false;
            handler(
              {
                seq: Number(attr('seq')),
                key: attr('key'),
                sentAt: Number(attr('sent-at')),
                receivedAt: Date.now(),
              },
              () => (acknowledged = true),
            );
            response.writeHead(acknowledged ? 200 : 500).end();
          });
        });
        await new Promise<void>((resolve) => server.listen(callbackPort, '127.0.0.1', resolve));
        return {
          close: () =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        };
      },
    };
  }

  native =
    'SNS is a managed service with no tool of its own to measure its capacity; its publish quota per account and Region is in AWS’s documentation, and this emulator is not it';

  restart = async (): Promise<void> => {
    this.client.destroy();
    await this.emulator.close();
    this.emulator = await startSnsEmulator({ port: this.port, redeliver: false });
    this.client = createSnsClient({ endpoint: this.emulator.endpoint, region: 'us-east-1' });
    this.generation++;
  };

  async stop(): Promise<void> {
    this.client.destroy();
    await this.emulator.close();
  }
}

export const sns: BrokerStarter = {
  name: 'SNS',
  async start(): Promise<Availability> {
    try {
      const port = envPort('COMPARE_SNS_PORT', 4012);
      const emulator = await startSnsEmulator({ port, redeliver: false });
      const client = createSnsClient({ endpoint: emulator.endpoint, region: 'us-east-1' });
      return { ok: true, broker: new SnsBroker(emulator, client, port) };
    } catch (err) {
      return { ok: false, reason: `the SNS emulator did not start: ${(err as Error).message}` };
    }
  },
};
