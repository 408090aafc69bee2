import { randomBytes } from 'node:crypto';
import type { PartitionerArgs } from 'kafkajs';
import { loadConfig } from '../../../../shared/config';
import { KeyHashPartitioner } from '../../../../shared/kafka/partitioner';
import { keyPartition } from '../../../../shared/kafka/partitioner';
import {
  checkRdkafkaSettings,
  loadRdkafka,
  parseRdkafkaSettings,
  RDKAFKA_QUEUE,
  rdkafkaHeaders,
  rdkafkaSettings,
  shipProducer,
} from '../../../../tools/ship/kafka-clients';

describe('shipProducer', () => {
  const plain = loadConfig({ KAFKA_BROKERS: '127.0.0.1:1' });
  const iam = loadConfig({
    KAFKA_BROKERS: '127.0.0.1:1',
    KAFKA_AUTH: 'iam',
    MSK_CLUSTER_ARN:
      'arn:aws:kafka:eu-west-1:123456789012:cluster/logs/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0-1',
  });
  const built = typeof loadRdkafka() !== 'string';

  it('ships with librdkafka when no client is named, where it was built (kafkajs with a note elsewhere)', async () => {
    const { producer, note } = await shipProducer(plain);
    if (built) {
      expect(producer.name).toBe('rdkafka');
      expect(note).toBeUndefined();
    } else {
      expect(producer.name).toBe('kafkajs');
      expect(note).toMatch(/cannot be loaded/);
    }
  });

  it('keeps kafkajs for MSK IAM: silently by default, with a note when rdkafka was asked for', async () => {
    expect(await shipProducer(iam)).toEqual({ producer: expect.objectContaining({ name: 'kafkajs' }) });
    const asked = await shipProducer(iam, 'rdkafka');
    expect(asked.producer.name).toBe('kafkajs');
    expect(asked.note).toMatch(/MSK IAM/);
  });

  it('gives kafkajs when it is named', async () => {
    expect((await shipProducer(plain, 'kafkajs')).producer.name).toBe('kafkajs');
  });

  it('refuses --rdkafka-setting when the run would ship through another client', async () => {
    await expect(shipProducer(iam, undefined, { 'linger.ms': '5' })).rejects.toThrow(
      '--rdkafka-setting applies to librdkafka, and this run ships with kafkajs',
    );
    if (built) {
      const { producer } = await shipProducer(plain, 'rdkafka', { 'linger.ms': '5' });
      expect(producer.name).toBe('rdkafka');
    }
  });
});

describe('keyPartition', () => {
  it('puts every key on the partition the functions’ kafkajs partitioner picks', () => {
    for (const partitions of [1, 3, 7, 50]) {
      const kafkajs = KeyHashPartitioner();
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionId,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
      }));
      for (let i = 0; i < 500; i++) {
        const key = randomBytes(1 + (i % 40));
        const args = { topic: 't', partitionMetadata, message: { key, value: null } } as PartitionerArgs;
        expect(keyPartition(key, partitions)).toBe(kafkajs(args));
      }
    }
  });

  it('gives the Java client’s partitions for its published murmur2 test keys (3 partitions)', () => {
    // Utils.murmur2 of "21" is -973932308 and of "foobar" -790332482 (Kafka's UtilsTest).
    expect(keyPartition(Buffer.from('21'), 3)).toBe((-973932308 & 0x7fffffff) % 3);
    expect(keyPartition(Buffer.from('foobar'), 3)).toBe((-790332482 & 0x7fffffff) % 3);
  });
});

describe('parseRdkafkaSettings', () => {
  it('reads key=value texts, the value trimmed and kept as text, the last of a key winning', () => {
    expect(
      parseRdkafkaSettings(['compression.type=lz4', 'linger.ms = 5', 'ssl.key.password=a=b', 'linger.ms=10']),
    ).toEqual({ 'compression.type': 'lz4', 'linger.ms': '10', 'ssl.key.password': 'a=b' });
    expect(parseRdkafkaSettings([])).toEqual({});
  });

  it('refuses a text that is not key=value', () => {
    expect(() => parseRdkafkaSettings(['lz4'])).toThrow('is not key=value');
    expect(() => parseRdkafkaSettings(['=lz4'])).toThrow('is not key=value');
  });

  it.each([
    ['acks=1', 'acks=all'],
    ['request.required.acks=0', 'acks=all'],
    ['enable.idempotence=false', 'idempotent producer'],
    ['enable.gapless.guarantee=false', 'gap'],
    ['bootstrap.servers=x:9092', 'KAFKA_BROKERS'],
    ['delivery.report.only.error=false', 'delivery reports'],
    ['dr_cb=false', 'delivery reports'],
  ])('refuses %s, which the guarantees rest on', (text, why) => {
    expect(() => parseRdkafkaSettings([text])).toThrow(why);
  });

  it('refuses more than 5 requests in flight and a queue past the stated bound', () => {
    expect(parseRdkafkaSettings(['max.in.flight=5'])).toEqual({ 'max.in.flight': '5' });
    expect(() => parseRdkafkaSettings(['max.in.flight=6'])).toThrow('from 1 to 5');
    expect(() => parseRdkafkaSettings(['max.in.flight.requests.per.connection=0'])).toThrow('from 1 to 5');
    expect(() => parseRdkafkaSettings([`queue.buffering.max.kbytes=${RDKAFKA_QUEUE.kbytes + 1}`])).toThrow(
      "the shipper's memory bound",
    );
    expect(() => parseRdkafkaSettings(['queue.buffering.max.messages=lots'])).toThrow('whole number');
  });

  const built = typeof loadRdkafka() !== 'string';
  (built ? it : it.skip)('has librdkafka refuse a name or value it does not know', () => {
    expect(() => checkRdkafkaSettings({ 'compression.type': 'lz4' })).not.toThrow();
    expect(() => checkRdkafkaSettings({ 'no.such.setting': '1' })).toThrow('no.such.setting');
    expect(() => checkRdkafkaSettings({ 'compression.type': 'zip' })).toThrow('Invalid value');
  });
});

describe('rdkafkaSettings', () => {
  const config = { clientId: 'ship' };

  it('asks librdkafka for idempotence, acks from all in-sync replicas, no delivery timeout, bounded queues and reports of failed records only', () => {
    const settings = rdkafkaSettings(config, { brokers: ['a:9092', 'b:9092'] })!;
    expect(settings).toMatchObject({
      'bootstrap.servers': 'a:9092,b:9092',
      'client.id': 'ship',
      'enable.idempotence': true,
      acks: 'all',
      'message.timeout.ms': 0,
      'queue.buffering.max.messages': RDKAFKA_QUEUE.messages,
      'queue.buffering.max.kbytes': RDKAFKA_QUEUE.kbytes,
      'enable.gapless.guarantee': true,
      dr_cb: true,
      'delivery.report.only.error': true,
    });
    // librdkafka's own default is 1 GiB: the shipper's bound must be far below its 150 MiB.
    expect(RDKAFKA_QUEUE.kbytes).toBeLessThanOrEqual(16 * 1024);
    expect(settings['security.protocol']).toBeUndefined();
  });

  it('maps TLS (with the CA given) and SCRAM to librdkafka settings', () => {
    expect(rdkafkaSettings(config, { brokers: ['a:9094'], ssl: true })).toMatchObject({
      'security.protocol': 'ssl',
    });
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    expect(rdkafkaSettings(config, { brokers: ['a:9094'], ssl: { ca: [ca] } })).toMatchObject({
      'security.protocol': 'ssl',
      'ssl.ca.pem': ca,
    });
    expect(
      rdkafkaSettings(config, {
        brokers: ['a:9096'],
        ssl: true,
        sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
      }),
    ).toMatchObject({
      'security.protocol': 'sasl_ssl',
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': 'u',
      'sasl.password': 'p',
    });
  });

  it('gives no settings for MSK IAM (SASL/OAUTHBEARER), which goes through kafkajs', () => {
    const sasl = { mechanism: 'oauthbearer' as const, oauthBearerProvider: async () => ({ value: 't' }) };
    expect(rdkafkaSettings(config, { brokers: ['a:9098'], ssl: true, sasl })).toBeUndefined();
  });
});

describe('rdkafkaHeaders', () => {
  it('turns headers into one single-name object per header value, in order, text as its UTF-8 bytes, Buffers kept', () => {
    const bytes = Buffer.from([0xff, 0x00]);
    const out = rdkafkaHeaders({
      'record-version': '1',
      source: 'file:/ü.log',
      raw: bytes,
      many: ['a', 'b'],
      gone: undefined,
    });
    expect(out).toEqual([
      { 'record-version': Buffer.from('1') },
      { source: Buffer.from('file:/ü.log', 'utf8') },
      { raw: bytes },
      { many: Buffer.from('a') },
      { many: Buffer.from('b') },
    ]);
    expect(out[2]!.raw).toBe(bytes);
    expect(rdkafkaHeaders(undefined)).toEqual([]);
  });
});
