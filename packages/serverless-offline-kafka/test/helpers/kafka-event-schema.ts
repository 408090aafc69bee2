/**
 * The shape of Lambda's Kafka events as a JSON Schema (draft-07 subset), re-expressed from the documented
 * event (https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html, .../with-kafka.html) and the field
 * list of Powertools for AWS Lambda's Kafka parser schemas (KafkaMskEventSchema,
 * KafkaSelfManagedEventSchema): eventSource, eventSourceArn (MSK only), bootstrapServers as a
 * comma-separated list, records keyed "<topic>-<partition>", each record with topic, partition, offset,
 * timestamp, timestampType, base64 key and value, and headers as a list of one-key objects of byte lists.
 * Written here, not copied; `value` is optional because a tombstone carries none.
 */
type Schema = {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number';
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxProperties?: number;
  minProperties?: number;
};

const BASE64 = '^[A-Za-z0-9+/]*={0,2}$';

const record: Schema = {
  type: 'object',
  required: ['topic', 'partition', 'offset', 'timestamp', 'timestampType', 'headers'],
  additionalProperties: false,
  properties: {
    topic: { type: 'string', pattern: '^.+$' },
    partition: { type: 'integer', minimum: 0 },
    offset: { type: 'integer', minimum: 0 },
    timestamp: { type: 'integer', minimum: 0 },
    timestampType: { enum: ['CREATE_TIME', 'LOG_APPEND_TIME'] },
    key: { type: 'string', pattern: BASE64 },
    value: { type: 'string', pattern: BASE64 },
    headers: {
      type: 'array',
      items: {
        type: 'object',
        minProperties: 1,
        maxProperties: 1,
        additionalProperties: { type: 'array', items: { type: 'integer', minimum: -128, maximum: 255 } },
      },
    },
  },
};

const records: Schema = {
  type: 'object',
  minProperties: 1,
  additionalProperties: { type: 'array', minItems: 1, items: record },
};

export const MSK_EVENT_SCHEMA: Schema = {
  type: 'object',
  required: ['eventSource', 'eventSourceArn', 'bootstrapServers', 'records'],
  additionalProperties: false,
  properties: {
    eventSource: { const: 'aws:kafka' },
    eventSourceArn: { type: 'string', pattern: '^arn:' },
    bootstrapServers: { type: 'string', pattern: '^[^,]+(,[^,]+)*$' },
    records,
  },
};

export const SELF_MANAGED_EVENT_SCHEMA: Schema = {
  type: 'object',
  required: ['eventSource', 'bootstrapServers', 'records'],
  additionalProperties: false,
  properties: {
    eventSource: { const: 'SelfManagedKafka' },
    bootstrapServers: { type: 'string', pattern: '^[^,]+(,[^,]+)*$' },
    records,
  },
};

function typeOk(type: Schema['type'], value: unknown): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    default:
      return true;
  }
}

/** Every place where `value` breaks `schema`, as "path: problem"; empty when it validates. */
export function validate(schema: Schema, value: unknown, path = '$'): string[] {
  const errors: string[] = [];
  if (schema.const !== undefined && value !== schema.const)
    errors.push(`${path}: must be ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value))
    errors.push(`${path}: must be one of ${JSON.stringify(schema.enum)}`);
  if (!typeOk(schema.type, value)) return [...errors, `${path}: must be ${schema.type}`];
  if (typeof value === 'string' && schema.pattern && !new RegExp(schema.pattern).test(value))
    errors.push(`${path}: does not match ${schema.pattern}`);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum)
      errors.push(`${path}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum)
      errors.push(`${path}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      errors.push(`${path}: too few items`);
    if (schema.items) value.forEach((v, i) => errors.push(...validate(schema.items!, v, `${path}[${i}]`)));
  }
  if (schema.type === 'object' && typeof value === 'object' && value !== null) {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    for (const key of schema.required ?? []) if (!(key in obj)) errors.push(`${path}: ${key} is required`);
    if (schema.minProperties !== undefined && keys.length < schema.minProperties)
      errors.push(`${path}: too few properties`);
    if (schema.maxProperties !== undefined && keys.length > schema.maxProperties)
      errors.push(`${path}: too many properties`);
    for (const key of keys) {
      const sub = schema.properties?.[key];
      if (sub) errors.push(...validate(sub, obj[key], `${path}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${path}: unexpected property ${key}`);
      else if (typeof schema.additionalProperties === 'object')
        errors.push(...validate(schema.additionalProperties, obj[key], `${path}.${key}`));
    }
  }
  return errors;
}
