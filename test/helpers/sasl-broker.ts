/**
 * A second local broker, from the same Kafka jars, with a SASL_SSL listener that accepts SCRAM-SHA-512 only:
 * a throwaway self-signed certificate (keytool, made per run), SCRAM users with random passwords written at
 * storage format time, and a PLAINTEXT listener for the test's own admin work. Ports: LOCAL_KAFKA_PORT + 2
 * (plaintext), + 3 (controller), + 4 (SASL_SSL); SASL_KAFKA_PORT moves them.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  defaultBrokerOptions,
  startBroker,
  stopBroker,
  type BrokerOptions,
} from '../../local/kafka/launcher';

const run = promisify(execFile);

export interface SaslBroker {
  /** host:port of the SASL_SSL listener. */
  saslBrokers: string[];
  /** host:port of the plaintext listener (admin work in tests). */
  plainBrokers: string[];
  /** PEM of the broker's self-signed certificate. */
  caFile: string;
  users: Record<string, string>;
  stop(): Promise<void>;
}

export async function startSaslBroker(usernames: string[]): Promise<SaslBroker> {
  const main = defaultBrokerOptions();
  const port = Number(process.env.SASL_KAFKA_PORT || main.port + 2);
  const dir = join(main.dir, `sasl-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });

  const storePassword = randomBytes(12).toString('hex');
  const keystore = join(dir, 'broker.p12');
  const caFile = join(dir, 'ca.pem');
  await run('keytool', [
    '-genkeypair',
    '-alias',
    'broker',
    '-keyalg',
    'RSA',
    '-keysize',
    '2048',
    '-validity',
    '2',
    '-dname',
    'CN=localhost',
    '-ext',
    'SAN=ip:127.0.0.1,dns:localhost',
    '-storetype',
    'PKCS12',
    '-keystore',
    keystore,
    '-storepass',
    storePassword,
  ]);
  const { stdout: pem } = await run('keytool', [
    '-exportcert',
    '-rfc',
    '-alias',
    'broker',
    '-keystore',
    keystore,
    '-storepass',
    storePassword,
  ]);
  writeFileSync(caFile, pem);

  const users = Object.fromEntries(usernames.map((u) => [u, randomBytes(12).toString('hex')]));
  const saslPort = port + 2;
  const options: BrokerOptions = {
    dir,
    port,
    libs: join(main.dir, 'libs'),
    allowDocker: false,
    formatArgs: Object.entries(users).flatMap(([name, password]) => [
      '--add-scram',
      `SCRAM-SHA-512=[name=${name},password=${password}]`,
    ]),
    properties: {
      listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${port + 1},SASL_SSL://127.0.0.1:${saslPort}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${port},SASL_SSL://127.0.0.1:${saslPort}`,
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL',
      'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config':
        'org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'ssl.keystore.type': 'PKCS12',
      'ssl.keystore.location': keystore,
      'ssl.keystore.password': storePassword,
      'ssl.key.password': storePassword,
    },
  };
  try {
    await startBroker(options, {});
  } catch (err) {
    await stopBroker(options).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    saslBrokers: [`127.0.0.1:${saslPort}`],
    plainBrokers: [`127.0.0.1:${port}`],
    caFile,
    users,
    stop: async () => {
      await stopBroker(options);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
