/**
 * The ceiling a Kafka client sets for the shipper, run by the ship benchmark in a child process: the
 * shipper's own records (the first `batch` lines of the file, parsed and encoded once) sent again and again
 * through that client's shipper producer (tools/ship/kafka-clients.ts: idempotent, acks=all, as many batches on
 * their way as the shipper gives that client) until `lines` records went out. No reading, parsing or checkpointing: what is left is the client
 * and the broker.
 *
 *   node dist/lab/bench/ship-client-ceiling.js <access.log> <lines> <batch> <rdkafka|kafkajs|platformatic>
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { loadConfig } from '../../shared/config';
import { prepareLines } from '../../shared/ingest/ingest-lines';
import { packRecords, type EncodedBatch } from '../../tools/ship/encoded-batch';
import { shipProducer, type ShipClientName } from '../../tools/ship/kafka-clients';

function firstLines(file: string, count: number): string[] {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(1024 * count);
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.toString('utf8', 0, n).split('\n').slice(0, count);
  } finally {
    closeSync(fd);
  }
}

async function main(file: string, lines: number, batch: number, client: ShipClientName): Promise<void> {
  const config = loadConfig();
  const { records } = prepareLines(firstLines(file, batch), {
    source: `file:${file}`,
    logFormat: 'combined',
  });
  const packed = packRecords(records);
  const { producer, note } = await shipProducer(config, client);
  if (producer.name !== client) throw new Error(note ?? `${client} is not available`);
  await producer.connect();
  try {
    const inFlight: Array<Promise<void>> = [];
    for (let sent = 0; sent < lines; sent += records.length) {
      // A fresh batch each time: the producer takes the same object again as a retry of it.
      const send: EncodedBatch = {
        records: lines - sent >= records.length ? packed : packRecords(records.slice(0, lines - sent)),
        deadLetters: [],
        counts: { accepted: 0, rejected: 0, blank: 0 },
      };
      if (inFlight.length >= producer.maxInFlight) await inFlight.shift();
      inFlight.push(producer.send(send));
    }
    await Promise.all(inFlight);
  } finally {
    await producer.disconnect();
  }
}

const [file, lines, batch, client] = process.argv.slice(2);
main(file!, Number(lines), Number(batch), (client ?? 'kafkajs') as ShipClientName).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
