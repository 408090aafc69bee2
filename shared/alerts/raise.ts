/**
 * The alerts consumer's work for one batch: count the new records into their minute windows (once per
 * record), evaluate each window the batch touched, and publish every alert not raised before as a record on
 * the alerts topic and a structured log line. An alert whose publishing fails is released, so the batch's
 * retry raises it again.
 */
import type { Message } from 'kafkajs';
import { batchItems } from '../analytics/record-batch';
import { loadConfig } from '../config';
import { summarizeErrors, type ErrorSummary } from '../consumer/error-summary';
import { sendAll, sharedProducer } from '../kafka/producer';
import { logger } from '../log';
import { RECORD_VERSION } from '../record/contract';
import type { NginxBatch } from '../record/kafka-event';
import { storePrefix } from '../store/analytics-store';
import { applyAlertCounts, claimAlert, readWindow, releaseAlert } from '../store/alerts-store';
import { sharedRedis } from '../store/redis';
import { alertsConfig } from './config';
import { evaluateWindow, minuteOf, type Alert } from './detect';

export interface AlertsBatchResult extends ErrorSummary {
  applied: number;
  duplicates: number;
  /** Alerts published by this invocation. */
  alerts: number;
}

/**
 * An alert as logged: client addresses are personal data, so a scanner's address (also inside its id) stays
 * on the alerts topic, which operators act on, and out of the logs.
 */
export function loggable(alert: Alert): Record<string, unknown> {
  if (alert.kind !== 'scanner') return { ...alert };
  const { client: _client, id: _id, ...rest } = alert;
  return rest;
}

export function encodeAlert(alert: Alert): Message {
  return {
    key: alert.kind === 'scanner' ? alert.client : alert.kind,
    value: JSON.stringify(alert),
    headers: {
      'record-version': RECORD_VERSION,
      'content-type': 'application/json',
      'alert-kind': alert.kind,
    },
  };
}

export async function raiseAlerts(batch: NginxBatch): Promise<AlertsBatchResult> {
  const config = alertsConfig();
  const redis = sharedRedis();
  const prefix = storePrefix();
  const outcome = await applyAlertCounts(redis, prefix, batchItems(batch));

  // Every window the batch touches is evaluated, even when its records were counted by an earlier delivery:
  // an invocation that counted them but failed before publishing gets its alerts out on the retry.
  const minutes = new Set(batch.records.map(({ record }) => minuteOf(record.time)));
  const candidates: Alert[] = [];
  for (const minute of minutes)
    candidates.push(...evaluateWindow(minute, await readWindow(redis, prefix, minute), config));
  const raised: Alert[] = [];
  for (const alert of candidates) if (await claimAlert(redis, prefix, alert.id)) raised.push(alert);

  if (raised.length > 0) {
    try {
      await sendAll(await sharedProducer(loadConfig()), [
        { topic: config.topic, messages: raised.map(encodeAlert) },
      ]);
    } catch (err) {
      await Promise.all(raised.map((a) => releaseAlert(redis, prefix, a.id)));
      throw err;
    }
    for (const alert of raised) logger.warn('alert', loggable(alert));
  }
  return {
    ...summarizeErrors(batch),
    applied: outcome.applied,
    duplicates: outcome.duplicates,
    alerts: raised.length,
  };
}
