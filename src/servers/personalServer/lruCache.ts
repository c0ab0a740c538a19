/**
 * A bounded least-recently-used map: the personal server meets up to 100k users in a run, so
 * every per-user cache must have a ceiling. A `Map` keeps insertion order, so re-inserting on
 * read moves an entry to the young end and the first key is always the oldest.
 */
export interface LruCache<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): void;
  readonly size: number;
  /** Lookups that found / did not find their key, since creation. */
  stats(): { size: number; hits: number; misses: number };
}

/**
 * Creates an LRU cache holding at most `maxEntries` entries.
 *
 * @example
 * const cache = createLruCache<string, number>(2);
 * cache.set('a', 1); cache.set('b', 2); cache.get('a'); cache.set('c', 3); // evicts 'b'
 */
export function createLruCache<K, V>(maxEntries: number): LruCache<K, V> {
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`Expected maxEntries as a positive integer, got ${maxEntries}`);
  }
  const map = new Map<K, V>();
  let hits = 0;
  let misses = 0;
  return {
    get(key) {
      const value = map.get(key);
      if (value === undefined) {
        misses++;
        return undefined;
      }
      hits++;
      map.delete(key);
      map.set(key, value);
      return value;
    },
    set(key, value) {
      map.delete(key);
      map.set(key, value);
      if (map.size > maxEntries) {
        const oldest = map.keys().next();
        if (!oldest.done) map.delete(oldest.value);
      }
    },
    get size() {
      return map.size;
    },
    stats: () => ({ size: map.size, hits, misses }),
  };
}
