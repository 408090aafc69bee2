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
 *   z <key#> <n> n × (<member> <by>)    ZINCRBY of each member
 *   u <key#> <key#> <field> <max> <n> n × <member>
 *                                       SADD of each member while the set has fewer than max members; the
 *                                       members new to the set are added to the counter field of the hash
 *   t <key#> <max>                      keeps the max highest-scored members of a sorted set
 *   e <key#> <seconds>                  EXPIRE
 * Returns {0} when a mark moved meanwhile; else {1, new values of the h operations in order}.
 *
 * A z or u operation carries every member of one key in a row: a batch of 1,000 records names about 2,000
 * members, and one operation per member (4 or 6 arguments each, a SCARD per set member) made the call's
 * building and the script's reading of its arguments most of the apply step's cost.
 */

/** Where counters stop: 2^62, far below 2^63 - 1, so a last increment of up to 2^53 cannot overflow. */
export const COUNTER_CEILING = 2 ** 62;
/** The largest increment one operation may carry. */
export const MAX_INCREMENT = Number.MAX_SAFE_INTEGER;

export const APPLY_SCRIPT = `
local CEILING = ${COUNTER_CEILING}
local SHAPES = { h = {3, 'hash'}, z = {2, 'zset'}, u = {5, 'set'}, t = {2, 'zset'}, e = {2, nil} }
local function whole(text)
  return type(text) == 'string' and string.len(text) <= 16 and string.match(text, '^%-?%d+$') ~= nil
end
local function refuse(why) return redis.error_reply('apply refused, nothing written: ' .. why) end
-- arguments after the operation's name: fixed ones, then the members of z and u
local function width(op, i)
  local shape = SHAPES[op]
  if op == 'z' then return shape[1] + 2 * (tonumber(ARGV[i + 2]) or 0) end
  if op == 'u' then return shape[1] + (tonumber(ARGV[i + 5]) or 0) end
  return shape[1]
end

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
  if op == 'z' and not (whole(ARGV[i + 2]) and tonumber(ARGV[i + 2]) >= 1) then return refuse('member count is not a whole number above 0') end
  if op == 'u' and not (whole(ARGV[i + 5]) and tonumber(ARGV[i + 5]) >= 1) then return refuse('member count is not a whole number above 0') end
  local size = width(op, i)
  if i + size > count then return refuse('operation ' .. op .. ' is cut short') end
  local bad = expect(ARGV[i + 1], shape[2])
  if bad then return refuse(bad) end
  if op == 'h' and not whole(ARGV[i + 3]) then return refuse('increment is not a whole number') end
  if op == 'z' then
    for j = i + 4, i + size, 2 do
      if not whole(ARGV[j]) then return refuse('increment is not a whole number') end
    end
  end
  if (op == 't' or op == 'e') and not whole(ARGV[i + 2]) then return refuse('bound is not a whole number') end
  if op == 'u' then
    bad = expect(ARGV[i + 2], 'hash')
    if bad then return refuse(bad) end
    if not whole(ARGV[i + 4]) then return refuse('set bound is not a whole number') end
  end
  i = i + size + 1
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
    for j = i + 3, i + width(op, i), 2 do redis.call('ZINCRBY', key, ARGV[j + 1], ARGV[j]) end
  elseif op == 'u' then
    local size = redis.call('SCARD', key)
    local max = tonumber(ARGV[i + 4])
    local added = 0
    for j = i + 6, i + width(op, i) do
      if size < max and redis.call('SADD', key, ARGV[j]) == 1 then
        size = size + 1
        added = added + 1
      end
    end
    if added > 0 then redis.call('HINCRBY', KEYS[tonumber(ARGV[i + 2])], ARGV[i + 3], added) end
  elseif op == 't' then
    local over = redis.call('ZCARD', key) - tonumber(ARGV[i + 2])
    if over > 0 then redis.call('ZREMRANGEBYRANK', key, 0, over - 1) end
  elseif op == 'e' then
    redis.call('EXPIRE', key, ARGV[i + 2])
  end
  i = i + width(op, i) + 1
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
  /** The z or u operation still open to more members: its fixed arguments, and its member count's place. */
  private run: { head: string[]; count: number; countAt: number } | undefined;
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

  /** One more member for the open operation when it has these fixed arguments, else a new operation. */
  private extend(head: string[]): void {
    const run = this.run;
    if (run !== undefined && run.head.length === head.length && run.head.every((a, i) => a === head[i])) {
      this.ops[run.countAt] = String(++run.count);
      return;
    }
    this.ops.push(...head, '1');
    this.run = { head, count: 1, countAt: this.ops.length - 1 };
  }

  hincrby(key: string, field: string, by: number, label?: string): void {
    this.run = undefined;
    this.ops.push('h', this.key(key), field, increment(by));
    this.counters.push(label ?? `${key} ${field}`);
  }

  /** Consecutive calls for one key become one operation. */
  zincrby(key: string, member: string, by: number): void {
    this.extend(['z', this.key(key)]);
    this.ops.push(member, increment(by));
  }

  /**
   * Adds member to a set of at most max members, counting members new to the set in counter's field.
   * Consecutive calls with the same set, counter and bound become one operation.
   */
  saddCounted(key: string, member: string, counter: string, field: string, max: number): void {
    this.extend(['u', this.key(key), this.key(counter), field, increment(max)]);
    this.ops.push(member);
  }

  /** Keeps the max highest-scored members of a sorted set. */
  ztrim(key: string, max: number): void {
    this.run = undefined;
    this.ops.push('t', this.key(key), increment(max));
  }

  expire(key: string, seconds: number): void {
    this.run = undefined;
    this.ops.push('e', this.key(key), increment(Math.max(1, seconds)));
  }

  args(): string[] {
    return [String(this.markCount), ...this.marks, ...this.ops];
  }
}
