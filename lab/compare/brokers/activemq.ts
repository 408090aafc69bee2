/**
 * ActiveMQ (Classic) over STOMP with stompit: the comparison starts the Debian package's broker
 * (ACTIVEMQ_HOME, default /usr/share/activemq) with a configuration and data folder of its own and one STOMP
 * connector on COMPARE_ACTIVEMQ_PORT (and OpenWire on the next port, for ActiveMQ's own producer and
 * consumer tools), so that it can restart it. Messages are persistent (KahaDB), each
 * send batch ends with a receipt, and consumers acknowledge each message (client-individual).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import stompit from 'stompit';
import { javaMajorVersion } from '../../../local/kafka/launcher';
import type { Availability, Broker, BrokerStarter, Channel, Handler, Wire } from '../broker';
import { meanSize, succeeded, type NativeResult } from '../native';
import { measureCommand } from '../../load/command';
import { envPort, packageVersion, portOpen, waitForPort } from './util';

type Client = stompit.Client;

function activemqXml(dir: string, port: number): string {
  return `<beans xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" brokerName="compare" useJmx="false"
          schedulerSupport="false" dataDirectory="${dir}/data">
    <persistenceAdapter><kahaDB directory="${dir}/data/kahadb"/></persistenceAdapter>
    <transportConnectors>
      <transportConnector name="stomp" uri="stomp://127.0.0.1:${port}?transport.tcpNoDelay=true"/>
      <transportConnector name="openwire" uri="tcp://127.0.0.1:${port + 1}"/>
    </transportConnectors>
  </broker>
</beans>
`;
}

/**
 * The Debian package ships log4j 1.2 (lib/optional) but no configuration for it, so without one the broker
 * prints nothing but log4j's own complaint. Its warnings (memory limits, producer flow control, slow
 * consumers) go to broker.out beside the configuration.
 */
const LOG4J = `log4j.rootLogger=INFO, out
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=%d{ISO8601} %-5p [%t] %c{1} - %m%n
`;

/**
 * Messages the broker sends a consumer ahead of its acknowledgements: about 80 KB of frames, which fit in
 * the connection's socket buffers. With 1,000 (about 800 KB) the broker's dispatch blocked writing to the
 * socket while holding the connection's transport lock, its reader waited on that lock with the consumer's
 * ACK frames unread, and the connection went into TCP retransmission back-off (both ends waiting 13 s
 * and more between retries): the consumer received nothing more (24,010 and 4,754 of 100,000 within
 * 60 s) while the producer's sends went on. The broker logged no warning (no memory limit, no flow control).
 */
const PREFETCH = 100;

/**
 * A STOMP connection with Nagle's algorithm off (stompit turns it off only with heart-beats on). With it on,
 * a frame written in pieces waited for the broker's delayed acknowledgement of the first: about 40 ms per
 * send-and-receipt, which was the whole of ActiveMQ's latency figure (p50 46 ms; 3-4 ms without).
 */
function stompConnect(port: number): Promise<{ client: Client; socket: Socket }> {
  let socket: Socket | undefined;
  return new Promise((resolve, reject) => {
    stompit.connect(
      {
        host: '127.0.0.1',
        port,
        connect: (_options, listener) =>
          (socket = netConnect({ host: '127.0.0.1', port, noDelay: true }, listener)),
        connectHeaders: { host: '/', 'heart-beat': '0,0', 'accept-version': '1.2' },
      },
      (err, client) => (err ? reject(err) : resolve({ client, socket: socket! })),
    );
  });
}

class OwnActiveMq {
  private child: ChildProcess | undefined;
  constructor(
    readonly home: string,
    readonly dir: string,
    readonly port: number,
  ) {
    mkdirSync(join(dir, 'conf'), { recursive: true });
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    writeFileSync(join(dir, 'conf', 'activemq.xml'), activemqXml(dir, port));
    writeFileSync(join(dir, 'conf', 'log4j.properties'), LOG4J);
  }

  async start(): Promise<void> {
    if (await portOpen(this.port)) {
      throw new Error(`127.0.0.1:${this.port} is taken; set COMPARE_ACTIVEMQ_PORT to a free port`);
    }
    const log = openSync(join(this.dir, 'broker.out'), 'a');
    this.child = spawn(
      'java',
      [
        '-Xms64m',
        '-Xmx512m',
        `-Dactivemq.home=${this.home}`,
        `-Dactivemq.base=${this.dir}`,
        `-Dactivemq.conf=${join(this.dir, 'conf')}`,
        `-Dactivemq.data=${join(this.dir, 'data')}`,
        `-Djava.io.tmpdir=${join(this.dir, 'tmp')}`,
        `-Dlog4j.configuration=file:${join(this.dir, 'conf', 'log4j.properties')}`,
        '-jar',
        join(this.home, 'bin', 'activemq.jar'),
        'start',
        `xbean:file:${join(this.dir, 'conf', 'activemq.xml')}`,
      ],
      { stdio: ['ignore', log, log] },
    );
    const exited = new Promise<never>((_, reject) =>
      this.child!.once('exit', (code) =>
        reject(new Error(`ActiveMQ exited (${code}); see ${join(this.dir, 'broker.out')}`)),
      ),
    );
    exited.catch(() => undefined);
    await Promise.race([waitForPort(this.port, true, 90000, 'ActiveMQ did not listen'), exited]);
  }

  /**
   * The broker's WARN and ERROR lines so far, each with the exception it names on the next line if any
   * (its folder is removed when the comparison ends).
   */
  warnings(): string[] {
    const log = join(this.dir, 'broker.out');
    if (!existsSync(log)) return [];
    const lines = readFileSync(log, 'utf8').split('\n');
    const exception = (line = '') => /^[\w.$]+(Exception|Error)\b/.test(line);
    return lines.flatMap((line, i) =>
      / (WARN|ERROR) /.test(line)
        ? [exception(lines[i + 1]) ? `${line} (${lines[i + 1]!.trim()})` : line]
        : [],
    );
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    await gone;
    clearTimeout(timer);
  }
}

class ActiveMqBroker implements Broker {
  readonly name = 'ActiveMQ';
  private sender: Client | undefined;
  private senderSocket: Socket | undefined;
  private server = 'ActiveMQ';

  constructor(
    private readonly node: OwnActiveMq,
    private readonly progress: (line: string) => void,
  ) {}

  async connect(): Promise<void> {
    ({ client: this.sender, socket: this.senderSocket } = await stompConnect(this.node.port));
    this.sender.on('error', () => undefined);
    const headers = (this.sender as unknown as { headers?: Record<string, string> }).headers;
    if (headers?.server) this.server = headers.server.replace('/', ' ');
  }

  /**
   * ActiveMQ's own `producer` and `consumer` tasks (its Java client over OpenWire): the records' count of
   * persistent messages of their mean size to a queue, then read back with client acknowledgement.
   */
  native = async (bodies: string[]): Promise<NativeResult> => {
    const destination = `queue://native-${Date.now().toString(36)}`;
    const task = async (name: 'producer' | 'consumer', ...args: string[]) =>
      succeeded(
        `activemq ${name}`,
        await measureCommand('java', [
          '-Xmx512m',
          `-Dactivemq.home=${this.node.home}`,
          '-jar',
          join(this.node.home, 'bin', 'activemq.jar'),
          name,
          ...['--brokerUrl', `tcp://127.0.0.1:${this.node.port + 1}`, '--destination', destination],
          ...['--messageCount', String(bodies.length), ...args],
        ]),
      );
    const send = await task('producer', '--persistent', 'true', '--messageSize', String(meanSize(bodies)));
    const read = await task('consumer', '--ackMode', 'CLIENT_ACKNOWLEDGE', '--batchSize', '1000');
    // The consumer task waits until it has received --messageCount messages: exiting 0 means all of them.
    const received = bodies.length;
    return {
      tool: `activemq producer / consumer (OpenWire, persistent, client acknowledgement; JVM start-up included)`,
      records: bodies.length,
      sendPerSecond: bodies.length / send.seconds,
      receivePerSecond: received / read.seconds,
      received,
    };
  };

  describe(): string {
    return `${this.server} (Debian package, STOMP with prefetch ${PREFETCH}, KahaDB); stompit ${packageVersion('stompit')}`;
  }

  async channel(name: string): Promise<Channel> {
    const destination = `/queue/${name}`;
    return {
      send: (messages: Wire[]) =>
        new Promise<void>((resolve, reject) => {
          // Nagle is off for single sends; a batch's frames are held while they are written, to leave together.
          const socket = this.senderSocket!;
          socket.cork();
          messages.forEach((m, i) => {
            const last = i === messages.length - 1;
            const frame = this.sender!.send(
              {
                destination,
                persistent: 'true',
                'content-type': 'application/json',
                seq: String(m.seq),
                key: m.key,
                'sent-at': String(m.sentAt),
              },
              last ? { onReceipt: () => resolve(), onError: reject } : undefined,
            );
            frame.on('error', reject);
            frame.end(m.body);
          });
          process.nextTick(() => socket.uncork());
        }),
      subscribe: async (handler: Handler) => {
        const { client } = await stompConnect(this.node.port);
        client.on('error', () => undefined);
        client.subscribe(
          { destination, ack: 'client-individual', 'activemq.prefetchSize': String(PREFETCH) },
          (err, message) => {
            if (err) return;
            const h = (message as unknown as { headers: Record<string, string> }).headers;
            const delivery = {
              seq: Number(h.seq),
              key: h.key ?? '',
              sentAt: Number(h['sent-at']),
              receivedAt: Date.now(),
            };
            message.readString('utf-8', () => handler(delivery, () => client.ack(message)));
          },
        );
        return {
          close: async () => {
            client.destroy(new Error('consumer stopped'));
          },
        };
      },
    };
  }

  restart = async (): Promise<void> => {
    this.sender?.destroy(new Error('broker restarting'));
    await this.node.stop();
    await this.node.start();
    await this.connect();
  };

  async stop(): Promise<void> {
    this.sender?.destroy(new Error('comparison finished'));
    await this.node.stop();
    for (const line of this.node.warnings()) this.progress(`broker log: ${line}`);
    rmSync(this.node.dir, { recursive: true, force: true });
  }
}

export const activemq: BrokerStarter = {
  name: 'ActiveMQ',
  async start(progress): Promise<Availability> {
    const home = process.env.ACTIVEMQ_HOME || '/usr/share/activemq';
    if (!existsSync(join(home, 'bin', 'activemq.jar'))) {
      return {
        ok: false,
        reason: `ActiveMQ is not installed (no ${home}/bin/activemq.jar; Debian: apt-get install activemq)`,
      };
    }
    const java = await javaMajorVersion();
    if (java === null) return { ok: false, reason: 'ActiveMQ needs Java, and java is not on the PATH' };
    const port = envPort('COMPARE_ACTIVEMQ_PORT', 61623);
    const node = new OwnActiveMq(home, mkdtempSync(join(tmpdir(), 'compare-activemq-')), port);
    try {
      progress(`starting ActiveMQ with its own configuration on 127.0.0.1:${port} (STOMP)...`);
      await node.start();
      const broker = new ActiveMqBroker(node, progress);
      await broker.connect();
      return { ok: true, broker };
    } catch (err) {
      await node.stop().catch(() => undefined);
      rmSync(node.dir, { recursive: true, force: true });
      return { ok: false, reason: `ActiveMQ did not start: ${(err as Error).message}` };
    }
  },
};
