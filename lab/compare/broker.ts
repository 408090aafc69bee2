/**
 * What every broker under comparison offers the scenarios: a fresh channel (a topic, a queue) to send
 * persistent messages to and to read them from with acknowledgements, and a way to restart the broker.
 * Each message is one nginx record; `seq` and `sentAt` travel in the broker's own headers.
 */
import type { NativeRun } from './native';

export interface Wire {
  seq: number;
  /** The client address: the Kafka key, and the unit of order ("one client's requests in order"). */
  key: string;
  /** The record's JSON, as the pipeline carries it. */
  body: string;
  sentAt: number;
}

export interface Delivery {
  seq: number;
  key: string;
  sentAt: number;
  receivedAt: number;
}

/** Called for each delivery; call `ack` to acknowledge it (or the broker may deliver it again). */
export type Handler = (delivery: Delivery, ack: () => void) => void;

export interface Subscription {
  /** Stops consuming as a crash would: nothing more is acknowledged. */
  close(): Promise<void>;
}

export interface Channel {
  /** Resolves once the broker has accepted (persisted) every message. */
  send(messages: Wire[]): Promise<void>;
  /** A consumer; the same channel's later consumers take over where an acknowledged one stopped. */
  subscribe(handler: Handler): Promise<Subscription>;
}

export interface ChannelOptions {
  /** Kafka only: partitions of the topic. */
  partitions: number;
}

export interface Broker {
  /** Column title. */
  readonly name: string;
  /** What was used: server version, client library and version, how it was run. */
  describe(): string;
  channel(name: string, options: ChannelOptions): Promise<Channel>;
  /** Restarts the broker (a clean stop and start), or says why it cannot. */
  restart: (() => Promise<void>) | string;
  /** The broker's capacity measured with its own tool, or why it is not measured here. */
  native: NativeRun;
  stop(): Promise<void>;
}

/** A broker that could be started, or the reason it was skipped. */
export type Availability = { ok: true; broker: Broker } | { ok: false; reason: string };

export interface BrokerStarter {
  readonly name: string;
  start(progress: (line: string) => void): Promise<Availability>;
}
