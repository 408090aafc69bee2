#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * `npm run ship -- <files|globs> [options]`, or `npx nginx-kafka-ship ...` after `npm run build`: ships
 * nginx access logs to the pipeline, whole files or following them. See USAGE in options.ts.
 */
import { loadConfig } from '../../shared/config';
import { logger } from '../../shared/log';
import { CheckpointError } from './checkpoint';
import { parseShipArgs, USAGE, UsageError, type ShipCommand } from './options';
import { formatSummary, Progress } from './progress';
import { Shipper } from './shipper';
import { HttpSink, KafkaSink, ShipError, StartError, type Sink } from './sinks';

async function ship(command: ShipCommand): Promise<number> {
  const config = loadConfig();
  const sink: Sink = command.to
    ? new HttpSink(command.to)
    : new KafkaSink(config, command.format, command.client, command.rdkafkaSettings);
  const shipper = new Shipper(
    {
      files: command.files,
      follow: command.follow,
      checkpointFile: command.checkpointFile,
      batchSize: command.batchSize,
      batchMs: command.batchMs,
      // Kafka: each partition's share of a batch must stay under the broker's message.max.bytes (1 MiB by
      // default) once encoded as records (~3 × the raw line); the ingest endpoint takes up to 6 MB a request.
      batchBytes: command.to ? 4 * 1024 * 1024 : 256 * 1024,
      pollMs: command.pollMs,
      drainMs: Math.max(2000, 4 * command.pollMs),
    },
    sink,
  );
  // Files first: a typo in a path should not wait for a broker.
  shipper.open();
  await sink.start();

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      console.error(`ship: ${signal} again: exiting without waiting for the batch in flight`);
      process.exit(130);
    }
    logger.info('ship.stopping', { signal });
    shipper.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const progress = new Progress(shipper, command.progress ?? process.stderr.isTTY === true);
  const started = Date.now();
  logger.info('ship.started', {
    files: command.files,
    follow: command.follow,
    to: sink.target,
    format: command.format.name,
    ...(sink instanceof KafkaSink ? { client: sink.clientName } : {}),
  });
  try {
    const stats = await shipper.run();
    progress.stop();
    const target = command.to ? `${command.to}` : config.topic;
    console.log(formatSummary(stats, (Date.now() - started) / 1000, target, config.deadLetterTopic));
    if (stats.unacknowledged > 0) {
      console.error(
        `ship: ${stats.unacknowledged} lines were read but not acknowledged by ${sink.target}; ` +
          (command.checkpointFile
            ? 'the checkpoint keeps their place: run the same command again when the broker is back'
            : 'rerun with --checkpoint-file to resume where a run stopped'),
      );
      return 1;
    }
    return 0;
  } finally {
    progress.stop();
    await sink.stop().catch(() => undefined);
  }
}

async function main(argv: string[]): Promise<number> {
  let command: ShipCommand;
  try {
    command = parseShipArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`ship: ${err.message}\n(nginx-kafka-ship --help lists the options)`);
      return 2;
    }
    throw err;
  }
  if (command.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    return await ship(command);
  } catch (err) {
    if (err instanceof ShipError || err instanceof StartError || err instanceof CheckpointError) {
      console.error(`ship: ${err.message}`);
      return 1;
    }
    if (err instanceof Error && /KAFKA_BROKERS/.test(err.message)) {
      console.error(`ship: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`ship: failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
