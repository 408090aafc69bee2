/**
 * One Lua script applies a batch's increments and moves the per-partition high-water marks in the same
 * atomic step, and only if the marks are still those the increments were computed against. A redelivered
 * batch (or part of one) finds its offsets at or below the mark and adds nothing; two writers racing on the
 * same partition make one of them recompute.
 *
 * All or nothing: Redis does not undo a script's earlier writes when a later command fails, so the script
 * first checks every operation (known operation, key in range, whole numbers, keys of the right type) and
 * writes nothing unless all of them can be applied; and no value makes a write fail: counters stop at
 * COUNTER_CEILING instead of overflowing Redis's 64-bit integers. The marks move last.
 *
 * KEYS[1] = the high-water-mark hash (field `<topic>-<partition>` → last applied offset); KEYS[2..] = the
 * keys the operations name by index.
 * ARGV = n, then n × (field, expected mark or "", new mark), then operations:
 *   h <key#> <field> <by>               HINCRBY up to the ceiling, its new value returned
 *   z <key#> <member> <by>              ZINCRBY
 *   u <key#> <member> <key#> <field> <max>
 *                                       SADD while the set has fewer than max members; a member new to the
 *                                       set adds 1 to the counter field of the hash
 *   t <key#> <max>                      keeps the max highest-scored members of a sorted set
 *   e <key#> <seconds>                  EXPIRE
 * Returns {0} when a mark moved meanwhile; else {1, new values of the h operations in order}.
 */

/** Where counters stop: 2^62, far below 2^63 - 1, so a last increment of up to 2^53 cannot overflow. */
export const COUNTER_CEILING = 2 ** 62;
/** The largest increment one operation may carry. */
export const MAX_INCREMENT = Number.MAX_SAFE_INTEGER;

export const APPLY_SCRIPT = `
local CEILING = ${COUNTER_CEILING}
local SHAPES = { h = {3, 'hash'}, z = {3, 'zset'}, u = {5, 'set'}, t = {2, 'zset'}, e = {2, nil} }
local function whole(text)
  return type(text) == 'string' and string.len(text) <= 16 and string.match(text, '^%-?%d+$') ~= nil
end
local function refuse(why) return redis.error_reply('apply refused, nothing written: ' .. why) end

local n = tonumber(ARGV[1])
if n == nil then return refuse('no mark count') end
local first = 2 + 3 * n
local count = #ARGV
local types = {}
local function expect(index, wanted)
  local key = KEYS[tonumber(index)]
  if key == nil then return 'key #' .. tostring(index) .. ' out of range' end
  if wanted == nil then return nil end
  if types[key] == nil then types[key] = redis.call('TYPE', key)['ok'] end
  if types[key] ~= 'none' and types[key] ~= wanted then
    return key .. ' holds a ' .. types[key] .. ', not a ' .. wanted
  end
  types[key] = wanted
  return nil
end

-- 1. check: nothing is written unless every operation can be applied
local i = first
while i <= count do
  local op = ARGV[i]
  local shape = SHAPES[op]
  if shape == nil then return refuse('unknown operation ' .. tostring(op)) end
  if i + shape[1] > count then return refuse('operation ' .. op .. ' is cut short') end
  local bad = expect(ARGV[i + 1], shape[2])
  if bad then return refuse(bad) end
  if (op == 'h' or op == 'z') and not whole(ARGV[i + 3]) then return refuse('increment is not a whole number') end
  if (op == 't' or op == 'e') and not whole(ARGV[i + 2]) then return refuse('bound is not a whole number') end
  if op == 'u' then
    bad = expect(ARGV[i + 3], 'hash')
    if bad then return refuse(bad) end
    if not whole(ARGV[i + 5]) then return refuse('set bound is not a whole number') end
  end
  i = i + shape[1] + 1
end
i = 2
for p = 1, n do
  local current = redis.call('HGET', KEYS[1], ARGV[i]) or ''
  if current ~= ARGV[i + 1] then return {0} end
  i = i + 3
end

-- 2. apply: no value can make one of these fail
local out = {1}
i = first
while i <= count do
  local op = ARGV[i]
  local key = KEYS[tonumber(ARGV[i + 1])]
  if op == 'h' then
    local by = tonumber(ARGV[i + 3])
    local current = tonumber(redis.call('HGET', key, ARGV[i + 2]) or '0') or 0
    if current + by > CEILING then
      redis.call('HSET', key, ARGV[i + 2], string.format('%.0f', CEILING))
      out[#out + 1] = CEILING
    else
      out[#out + 1] = redis.call('HINCRBY', key, ARGV[i + 2], ARGV[i + 3])
    end
  elseif op == 'z' then
    redis.call('ZINCRBY', key, ARGV[i + 3], ARGV[i + 2])
  elseif op == 'u' then
    if redis.call('SCARD', key) < tonumber(ARGV[i + 5]) and redis.call('SADD', key, ARGV[i + 2]) == 1 then
      redis.call('HINCRBY', KEYS[tonumber(ARGV[i + 3])], ARGV[i + 4], 1)
    end
  elseif op == 't' then
    local over = redis.call('ZCARD', key) - tonumber(ARGV[i + 2])
    if over > 0 then redis.call('ZREMRANGEBYRANK', key, 0, over - 1) end
  elseif op == 'e' then
    redis.call('EXPIRE', key, ARGV[i + 2])
  end
  i = i + SHAPES[op][1] + 1
end
i = 2
for p = 1, n do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
  i = i + 3
end
return out
`;

/** A whole number within what one operation may carry. */
function increment(by: number): string {
  if (!Number.isFinite(by)) return '0';
  return String(Math.max(-MAX_INCREMENT, Math.min(MAX_INCREMENT, Math.trunc(by))));
}

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
    this.ops.push('h', this.key(key), field, increment(by));
    this.counters.push(label ?? `${key} ${field}`);
  }

  zincrby(key: string, member: string, by: number): void {
    this.ops.push('z', this.key(key), member, increment(by));
  }

  /** Adds member to a set of at most max members, counting members new to the set in counter's field. */
  saddCounted(key: string, member: string, counter: string, field: string, max: number): void {
    this.ops.push('u', this.key(key), member, this.key(counter), field, increment(max));
  }

  /** Keeps the max highest-scored members of a sorted set. */
  ztrim(key: string, max: number): void {
    this.ops.push('t', this.key(key), increment(max));
  }

  expire(key: string, seconds: number): void {
    this.ops.push('e', this.key(key), increment(Math.max(1, seconds)));
  }

  args(): string[] {
    return [String(this.markCount), ...this.marks, ...this.ops];
  }
}
