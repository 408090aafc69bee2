/**
 * RabbitMQ through amqplib: a durable queue per scenario, persistent messages confirmed by the broker
 * (publisher confirms), consumers that acknowledge each message. When `rabbitmq-server` is installed the
 * comparison runs a node of its own (temporary folder, COMPARE_RABBITMQ_PORT) so it can restart it;
 * otherwise it uses RABBITMQ_URL or a broker on 127.0.0.1:5672 and does not restart one it did not start.
 */
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Availability, Broker, BrokerStarter, Channel, Handler, Wire } from '../broker';
import { projectRoot } from '../../../local/common/project-root';
import { mavenJars, meanSize, succeeded, type NativeResult } from '../native';
import { measureCommand } from '../../load/command';
import { envPort, packageVersion, portOpen, waitForPort } from './util';

const SERVER_SCRIPTS = ['/usr/lib/rabbitmq/bin/rabbitmq-server', '/usr/sbin/rabbitmq-server'];

/** A RabbitMQ node of the comparison's own. */
class OwnNode {
  private child: ChildProcess | undefined;
  constructor(
    readonly dir: string,
    readonly port: number,
    private readonly script: string,
  ) {
    writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\n`);
    writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  }

  async start(): Promise<void> {
    if (await portOpen(this.port)) {
      throw new Error(`127.0.0.1:${this.port} is taken; set COMPARE_RABBITMQ_PORT to a free port`);
    }
    const log = openSync(join(this.dir, 'server.out'), 'a');
    const node = `compare${this.port}@localhost`;
    this.child = spawn(this.script, [], {
      env: {
        ...process.env,
        RABBITMQ_NODENAME: node,
        RABBITMQ_NODE_PORT: String(this.port),
        RABBITMQ_DIST_PORT: String(this.port + 1),
        RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
        RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
        RABBITMQ_LOG_BASE: join(this.dir, 'log'),
        RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
        RABBITMQ_PID_FILE: join(this.dir, 'node.pid'),
      },
      stdio: ['ignore', log, log],
    });
    const exited = new Promise<never>((_, reject) =>
      this.child!.once('exit', (code) =>
        reject(new Error(`rabbitmq-server exited (${code}); see ${join(this.dir, 'server.out')}`)),
      ),
    );
    exited.catch(() => undefined);
    await Promise.race([waitForPort(this.port, true, 90000, 'RabbitMQ did not listen'), exited]);
  }

  async stop(): Promise<void> {
    const pidFile = join(this.dir, 'node.pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : this.child?.pid;
    if (pid) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await waitForPort(this.port, false, 60000, 'RabbitMQ did not stop');
    if (this.child && this.child.exitCode === null) {
      await new Promise((resolve) => {
        this.child!.once('exit', resolve);
        setTimeout(resolve, 10000).unref();
      });
    }
  }
}

class RabbitBroker implements Broker {
  readonly name = 'RabbitMQ';
  private connection: ChannelModel | undefined;
  private publisher: ConfirmChannel | undefined;
  private version = '?';
  private readonly queues = new Set<string>();

  constructor(
    private readonly url: string,
    private readonly node: OwnNode | undefined,
  ) {
    this.restart = node
      ? this.restartNode
      : 'not restarted: the broker at RABBITMQ_URL or 127.0.0.1:5672 was not started by the comparison';
  }

  restart: (() => Promise<void>) | string;

  /**
   * PerfTest, RabbitMQ's own load tool (Java, from Maven Central): one producer sends the records'
   * count of persistent messages of their mean size with publisher confirms (up to 1,000 outstanding) to a
   * durable queue, while one consumer acknowledges them (prefetch 1,000), as the Node.js client does.
   */
  native = async (bodies: string[]): Promise<NativeResult> => {
    const root = projectRoot();
    const classpath = await mavenJars(
      join(root, 'lab', 'compare', 'brokers', 'perf-test.pom.xml'),
      join(root, '.compare', 'perf-test'),
    );
    const n = String(bodies.length);
    const run = succeeded(
      'PerfTest',
      await measureCommand('java', [
        '-cp',
        classpath,
        'com.rabbitmq.perf.PerfTest',
        ...['--uri', this.url, '--producers', '1', '--consumers', '1'],
        ...['--pmessages', n, '--cmessages', n, '--size', String(meanSize(bodies))],
        ...['--flag', 'persistent', '--confirm', '1000', '--qos', '1000'],
        ...['--queue', `native-${Date.now().toString(36)}`, '--auto-delete', 'true', '--id', 'native'],
      ]),
    );
    const rate = (what: string) =>
      Number(new RegExp(`${what} rate avg: ([\\d.]+) msg/s`).exec(run.stdout)?.[1]);
    const send = rate('sending');
    const receive = rate('receiving');
    if (!send || !receive) throw new Error(`PerfTest printed no rates: ${run.stdout.slice(-300)}`);
    const version = /perf-test-([\d.]+)\.jar/.exec(
      readdirSync(join(root, '.compare', 'perf-test')).join(' '),
    )?.[1];
    return {
      tool: `PerfTest ${version ?? ''} (1 producer with confirms, 1 consumer with acks, persistent, durable queue)`,
      records: bodies.length,
      sendPerSecond: send,
      receivePerSecond: receive,
      received: /Consumer reached message limit/.test(run.stdout) ? bodies.length : 0,
    };
  };

  async connect(): Promise<void> {
    this.connection = await connect(this.url);
    this.version = String(this.connection.connection.serverProperties.version ?? '?');
    this.publisher = await this.connection.createConfirmChannel();
  }

  describe(): string {
    const how = this.node ? 'a node of its own' : this.url.replace(/\/\/[^@]*@/, '//');
    return `RabbitMQ ${this.version} (${how}); amqplib ${packageVersion('amqplib')}`;
  }

  async channel(queue: string): Promise<Channel> {
    await this.publisher!.assertQueue(queue, { durable: true });
    this.queues.add(queue);
    return {
      send: async (messages: Wire[]) => {
        for (const m of messages) {
          this.publisher!.sendToQueue(queue, Buffer.from(m.body), {
            persistent: true,
            headers: { seq: m.seq, key: m.key, 'sent-at': m.sentAt },
          });
        }
        await this.publisher!.waitForConfirms();
      },
      subscribe: async (handler: Handler) => {
        const connection = await connect(this.url);
        const channel = await connection.createChannel();
        await channel.prefetch(1000);
        await channel.consume(
          queue,
          (message) => {
            if (!message) return;
            const h = message.properties.headers ?? {};
            handler(
              {
                seq: Number(h.seq),
                key: String(h.key),
                sentAt: Number(h['sent-at']),
                receivedAt: Date.now(),
              },
              () => channel.ack(message),
            );
          },
          { noAck: false },
        );
        return { close: () => connection.close().catch(() => undefined) };
      },
    };
  }

  private readonly restartNode = async (): Promise<void> => {
    await this.connection?.close().catch(() => undefined);
    await this.node!.stop();
    await this.node!.start();
    await this.connect();
  };

  async stop(): Promise<void> {
    // On a broker that is not the comparison's own, leave no queues behind.
    if (!this.node) {
      for (const queue of this.queues) await this.publisher?.deleteQueue(queue).catch(() => undefined);
    }
    await this.connection?.close().catch(() => undefined);
    if (this.node) {
      await this.node.stop().catch(() => undefined);
      rmSync(this.node.dir, { recursive: true, force: true });
    }
  }
}

export const rabbitmq: BrokerStarter = {
  name: 'RabbitMQ',
  async start(progress): Promise<Availability> {
    const given = process.env.RABBITMQ_URL;
    const script = SERVER_SCRIPTS.find((s) => existsSync(s));
    let node: OwnNode | undefined;
    let url = given ?? 'amqp://guest:guest@127.0.0.1:5672';
    try {
      if (!given && script) {
        const port = envPort('COMPARE_RABBITMQ_PORT', 5682);
        node = new OwnNode(mkdtempSync(join(tmpdir(), 'compare-rabbitmq-')), port, script);
        progress(`starting a RabbitMQ node of its own on 127.0.0.1:${port}...`);
        await node.start();
        url = `amqp://guest:guest@127.0.0.1:${port}`;
      } else if (!given && !(await portOpen(5672))) {
        return {
          ok: false,
          reason:
            'RabbitMQ is not installed (Debian: apt-get install rabbitmq-server) and nothing answers on 127.0.0.1:5672',
        };
      }
      const broker = new RabbitBroker(url, node);
      await broker.connect();
      return { ok: true, broker };
    } catch (err) {
      if (node) {
        await node.stop().catch(() => undefined);
        rmSync(node.dir, { recursive: true, force: true });
      }
      return { ok: false, reason: `RabbitMQ did not start or answer: ${(err as Error).message}` };
    }
  },
};
