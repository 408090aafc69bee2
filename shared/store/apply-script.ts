/**
 * One Lua script applies a batch's increments and moves the per-partition high-water marks in the same
 * atomic step, and only if the marks are still those the increments were computed against. A redelivered
 * batch (or part of one) finds its offsets at or below the mark and adds nothing; two writers racing on the
 * same partition make one of them recompute.
 *
 * KEYS[1] = the high-water-mark hash (field `<topic>-<partition>` → last applied offset); KEYS[2..] = the
 * keys the operations name by index.
 * ARGV = n, then n × (field, expected mark or "", new mark), then operations:
 *   h <key#> <field> <by>     HINCRBY, its new value returned
 *   z <key#> <member> <by>    ZINCRBY
 *   s <key#> <member>         SADD
 *   e <key#> <seconds>        EXPIRE
 * Returns {0} when a mark moved meanwhile; else {1, new values of the h operations in order}.
 */
export const APPLY_SCRIPT = `
local n = tonumber(ARGV[1])
local i = 2
for p = 1, n do
  local current = redis.call('HGET', KEYS[1], ARGV[i]) or ''
  if current ~= ARGV[i + 1] then return {0} end
  i = i + 3
end
i = 2
for p = 1, n do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
  i = i + 3
end
local out = {1}
local count = #ARGV
while i <= count do
  local op = ARGV[i]
  local key = KEYS[tonumber(ARGV[i + 1])]
  if op == 'h' then
    out[#out + 1] = redis.call('HINCRBY', key, ARGV[i + 2], ARGV[i + 3])
    i = i + 4
  elseif op == 'z' then
    redis.call('ZINCRBY', key, ARGV[i + 3], ARGV[i + 2])
    i = i + 4
  elseif op == 's' then
    redis.call('SADD', key, ARGV[i + 2])
    i = i + 3
  elseif op == 'e' then
    redis.call('EXPIRE', key, ARGV[i + 2])
    i = i + 3
  else
    return redis.error_reply('unknown operation ' .. tostring(op))
  end
end
return out
`;

/** Builds the KEYS and ARGV of one APPLY_SCRIPT call. */
export class ApplyCall {
  readonly keys: string[];
  private readonly keyIndex = new Map<string, number>();
  private readonly marks: string[] = [];
  private readonly ops: string[] = [];
  private markCount = 0;
  /** Labels of the h operations, in the order their new values come back. */
  readonly counters: string[] = [];

  constructor(markKey: string) {
    this.keys = [markKey];
  }

  private key(name: string): string {
    let index = this.keyIndex.get(name);
    if (index === undefined) {
      this.keys.push(name);
      index = this.keys.length;
      this.keyIndex.set(name, index);
    }
    return String(index);
  }

  mark(field: string, expected: number | undefined, next: number): void {
    this.markCount++;
    this.marks.push(field, expected === undefined ? '' : String(expected), String(next));
  }

  hincrby(key: string, field: string, by: number, label?: string): void {
    this.ops.push('h', this.key(key), field, String(by));
    this.counters.push(label ?? `${key} ${field}`);
  }

  zincrby(key: string, member: string, by: number): void {
    this.ops.push('z', this.key(key), member, String(by));
  }

  sadd(key: string, member: string): void {
    this.ops.push('s', this.key(key), member);
  }

  expire(key: string, seconds: number): void {
    this.ops.push('e', this.key(key), String(seconds));
  }

  args(): string[] {
    return [String(this.markCount), ...this.marks, ...this.ops];
  }
}
