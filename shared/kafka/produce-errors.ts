/**
 * Why producing a request failed, named for what happened, with what is true about the request's records:
 * `none` (no record of the request is visible to consumers) or `unknown` (the broker stopped answering
 * while the commit was under way: the records are visible either all or none, and nobody can tell which
 * until the broker answers). Every message says what the client should do.
 */
import { RecordTooLargeError } from './send-plan';

export type ProduceFailureKind =
  | 'unavailable'
  | 'too-few-replicas'
  | 'too-large'
  | 'topic-missing'
  | 'refused'
  | 'commit-unknown'
  | 'commit-aborted';

export class ProduceError extends Error {
  readonly statusCode = 503;
  constructor(
    readonly kind: ProduceFailureKind,
    readonly stored: 'none' | 'unknown',
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }

  /** The HTTP answer's body. */
  get answer(): Record<string, unknown> {
    return { error: this.message, kind: this.kind, stored: this.stored };
  }
}

interface KafkaErrorLike {
  name?: string;
  type?: string;
  message?: string;
  cause?: unknown;
}

/** The innermost error kafkajs wrapped (retries exceeded wraps the last attempt's error). */
function innermost(err: unknown): KafkaErrorLike {
  let e = err as KafkaErrorLike;
  for (let depth = 0; depth < 5 && e?.cause; depth++) e = e.cause as KafkaErrorLike;
  return e ?? {};
}

const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);
const TOPIC_MISSING = new Set(['UNKNOWN_TOPIC_OR_PARTITION']);
const REFUSED = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
]);

/** The partition's leader is up but fewer replicas are in sync than the topic's min.insync.replicas. */
const TOO_FEW_REPLICAS = new Set(['NOT_ENOUGH_REPLICAS', 'NOT_ENOUGH_REPLICAS_AFTER_APPEND']);

/** The first few of many names, and how many more. */
function listed(names: readonly string[], first = 4): string {
  const more = names.length - first;
  return `${names.slice(0, first).join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

export const NONE_STORED = 'nothing of this request was stored';

/**
 * A ProduceError for what went wrong. `committing` says whether the commit had been sent: before it, the
 * transaction is never committed (it is aborted by us, by the next producer with the same transactional
 * id, or by the broker at its timeout), so nothing is visible.
 */
export function produceError(
  err: unknown,
  context: {
    topics: readonly string[];
    committing: boolean;
    deadlineMs: number;
    timedOut: boolean;
    /** Partitions the cluster says have fewer in-sync replicas than their topic's min.insync.replicas. */
    shortOfReplicas?: readonly string[];
  },
): ProduceError {
  if (err instanceof ProduceError) return err;
  const inner = innermost(err);
  const type = inner.type ?? '';
  const detail = inner.message ?? String(err);
  if (context.committing) {
    return new ProduceError(
      'commit-unknown',
      'unknown',
      `Kafka stopped answering while this request was being committed (${detail}) and did not answer again in ` +
        'time to tell the outcome; its lines are stored either all or none. Retrying may store them twice: ' +
        'look for the source of this request in the topic first.',
      err,
    );
  }
  if (err instanceof RecordTooLargeError || TOO_LARGE.has(type)) {
    return new ProduceError(
      'too-large',
      'none',
      `Kafka refused a batch of this request as too large (${detail}); ${NONE_STORED}. ` +
        'The topic limits are read again on the next request: retry the same request.',
      err,
    );
  }
  if (TOPIC_MISSING.has(type)) {
    return new ProduceError(
      'topic-missing',
      'none',
      `A topic of this request does not exist (${context.topics.join(', ')}: ${detail}); ${NONE_STORED}. ` +
        'Create it (npm run kafka:start creates the project topics) and retry.',
      err,
    );
  }
  if (TOO_FEW_REPLICAS.has(type) || (context.shortOfReplicas ?? []).length > 0) {
    // The broker's own answer, after the client's retries, or the cluster's state when the answer was the
    // transaction coordinator's: sending the request again at once meets the same replicas, so the caller
    // is told now, with the reason, rather than after the deadline.
    const where = TOO_FEW_REPLICAS.has(type)
      ? detail
      : `${listed(context.shortOfReplicas!)} have fewer in-sync replicas than required; the broker answered: ${detail}`;
    return new ProduceError(
      'too-few-replicas',
      'none',
      `Kafka refused this request: too few in-sync replicas (${where}); ${NONE_STORED}. ` +
        'Brokers are down; retry the same request once they are back.',
      err,
    );
  }
  if (REFUSED.has(type)) {
    return new ProduceError(
      'refused',
      'none',
      `Kafka refused this request (${detail}); ${NONE_STORED}. Retrying will not help until the cause is fixed.`,
      err,
    );
  }
  const why = context.timedOut ? `did not finish within ${context.deadlineMs / 1000} s` : 'is unavailable';
  return new ProduceError(
    'unavailable',
    'none',
    `Kafka ${why} (${detail}); ${NONE_STORED}. Retry the same request later.`,
    err,
  );
}
