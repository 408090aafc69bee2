/**
 * The apply script's z and u operations carry every member of a key in a row (shared/store/apply-script.ts):
 * in a real Redis, a set stops at its bound in the middle of an operation and its counter counts only the
 * members it took, sorted-set increments add up per member, and an operation whose member count does not
 * match its arguments is refused with nothing written.
 */
import { applyOnce } from '../../shared/store/apply-once';
import { APPLY_SCRIPT, ApplyCall } from '../../shared/store/apply-script';
import { redisUnderPrefix } from '../helpers/redis-under-prefix';

const { prefix, redis } = redisUnderPrefix('test-apply');

const at = (offset: number) => ({ delivered: { topic: 't', partition: 0, offset } });

it('groups consecutive members of one key into one operation, and a new key or another call ends it', () => {
  const call = new ApplyCall('marks');
  call.zincrby('z1', 'a', 1);
  call.zincrby('z1', 'b', 2);
  call.zincrby('z2', 'a', 3);
  call.ztrim('z2', 10);
  call.zincrby('z2', 'c', 4);
  call.saddCounted('s', 'x', 'h', 'f', 5);
  call.saddCounted('s', 'y', 'h', 'f', 5);
  call.saddCounted('s', 'z', 'h', 'f', 6);
  expect(call.args()).toEqual(
    [
      '0',
      'z',
      '2',
      '2',
      'a',
      '1',
      'b',
      '2',
      'z',
      '3',
      '1',
      'a',
      '3',
      't',
      '3',
      '10',
      'z',
      '3',
      '1',
      'c',
      '4',
    ].concat(['u', '4', '5', 'f', '5', '2', 'x', 'y', 'u', '4', '5', 'f', '6', '1', 'z']),
  );
});

it('stops a set at its bound within one operation and counts only the members it took', async () => {
  const p = `${prefix}-bound`;
  const outcome = await applyOnce(redis, `${p}:marks`, [at(0), at(1)], (_fresh, call) => {
    for (const member of ['a', 'b', 'a', 'c', 'd', 'e'])
      call.saddCounted(`${p}:set`, member, `${p}:h`, 'n', 3);
    for (const [member, by] of [
      ['m', 2],
      ['n', 5],
      ['m', 3],
    ] as const)
      call.zincrby(`${p}:z`, member, by);
  });
  expect(outcome.applied).toBe(2);
  expect((await redis.smembers(`${p}:set`)).sort()).toEqual(['a', 'b', 'c']);
  expect(await redis.hget(`${p}:h`, 'n')).toBe('3');
  expect(await redis.zrange(`${p}:z`, 0, -1, 'WITHSCORES')).toEqual(['m', '5', 'n', '5']);

  // The next batch finds the set full: nothing added, the counter unchanged.
  await applyOnce(redis, `${p}:marks`, [at(2)], (_fresh, call) => {
    call.saddCounted(`${p}:set`, 'f', `${p}:h`, 'n', 3);
    call.saddCounted(`${p}:set`, 'a', `${p}:h`, 'n', 3);
  });
  expect(await redis.scard(`${p}:set`)).toBe(3);
  expect(await redis.hget(`${p}:h`, 'n')).toBe('3');
});

it('refuses an operation whose member count does not match its arguments, writing nothing', async () => {
  const p = `${prefix}-malformed`;
  const keys = [`${p}:marks`, `${p}:z`, `${p}:set`, `${p}:h`];
  const script = (...args: string[]) => redis.eval(APPLY_SCRIPT, keys.length, ...keys, '0', ...args);
  await expect(script('z', '2', '0')).rejects.toThrow('apply refused, nothing written');
  await expect(script('z', '2', '2', 'a', '1', 'b')).rejects.toThrow('is cut short');
  await expect(script('z', '2', '1', 'a', 'x')).rejects.toThrow('increment is not a whole number');
  await expect(script('z', '2', '1', 'a', '1', 'u', '3', '4', 'n', '5', '2', 'x')).rejects.toThrow(
    'is cut short',
  );
  expect(await redis.exists(...keys)).toBe(0);
  // The same operations, well formed, are applied.
  await expect(script('z', '2', '1', 'a', '1', 'u', '3', '4', 'n', '5', '2', 'x', 'y')).resolves.toEqual([1]);
  expect(await redis.hget(`${p}:h`, 'n')).toBe('2');
});
