import { describe, expect, it } from 'vitest';
import { createLruCache } from './lruCache.ts';

describe('createLruCache', () => {
  it('evicts the least recently used entry beyond maxEntries', () => {
    const cache = createLruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([1, undefined, 3]);
    expect(cache.stats()).toEqual({ size: 2, hits: 3, misses: 1 });
  });

  it('error: rejects a zero size', () => {
    expect(() => createLruCache(0)).toThrowErrorMatchingInlineSnapshot(`[RangeError: Expected maxEntries as a positive integer, got 0]`);
  });
});
