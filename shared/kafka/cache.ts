/**
 * An answer asked for once per container and kept, unless it failed: a rejected promise is dropped, so the
 * next caller asks again (MSK broker discovery, SCRAM secrets).
 */
export function cachedUntilFailure<T>(
  cache: Map<string, Promise<T>>,
  key: string,
  ask: () => Promise<T>,
): Promise<T> {
  let found = cache.get(key);
  if (!found) {
    const asking = ask();
    found = asking;
    cache.set(key, asking);
    asking.catch(() => {
      if (cache.get(key) === asking) cache.delete(key);
    });
  }
  return found;
}
