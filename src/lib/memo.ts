// Results of pure functions of a string, kept in a bounded LRU (lru-cache): the
// portal formats the same business's brand colour, phone number and visit
// times on every view, and working them out again each time was a measurable
// share of a page (issue 16). Only for pure functions: same key, same answer.
import { LRUCache } from 'lru-cache';

/** `fn` with its results for the last `max` keys remembered. */
export function memoize<T extends NonNullable<unknown>>(fn: (key: string) => T, max = 1000): (key: string) => T {
  const cache = new LRUCache<string, T>({ max });
  return (key: string) => {
    let value = cache.get(key);
    if (value === undefined) {
      value = fn(key);
      cache.set(key, value);
    }
    return value;
  };
}
