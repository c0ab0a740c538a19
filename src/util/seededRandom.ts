/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) so that simulated latencies and injected
 * failures are reproducible from a seed. Not for keys or anything secret.
 */

/** A function returning uniformly distributed numbers in [0, 1). */
export type RandomSource = () => number;

/**
 * Creates a deterministic random source from a 32-bit integer seed.
 *
 * @example
 * const random = createSeededRandom(42);
 * random(); // same sequence on every run
 */
export function createSeededRandom(seed: number): RandomSource {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`Expected an integer seed, got ${seed}`);
  let state = seed >>> 0;
  // splitmix32 spreads a small seed over the four sfc32 state words.
  const splitmix = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4_294_967_296;
  };
}

/** A 32-bit seed from any string (FNV-1a). */
export function seedFromString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
