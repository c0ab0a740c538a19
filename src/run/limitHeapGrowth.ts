/**
 * The harness's V8 heap between two full garbage collections. V8 lets the old generation grow to
 * up to 4× what survived the last full collection before it collects again, on a machine with
 * memory to spare; a load generator allocates fast (encryption, HTTP, JSON) and keeps little, so
 * most of its RSS was heap waiting for a collection: 600+ MB of RSS over ~100-130 MB of live
 * objects in a 20k-flow MS-05 run at 1500 in flight (PROGRESS.md, Issue 17). At 1.3× the heap
 * follows what is live; the cost is more frequent full collections (harness CPU per flow 11.8 ms
 * at 1.5×, 12.8 ms at 1.3×, 16.9 ms before with fetch: the same runs).
 */
import { setFlagsFromString } from 'node:v8';

/** The old generation may grow to (1 + this / 100) × what survived the last full collection. */
export const HEAP_GROWING_PERCENT = 30;

/** Flags by which whoever started the process chose a heap policy of their own. */
const OWN_POLICY = /--(heap-growing-percent|max-old-space-size|optimize-for-size)\b|--heap_growing_percent|--max_old_space_size/;

export interface LimitHeapGrowthParameters {
  percent?: number;
  /** Default: this process's `execArgv` and `NODE_OPTIONS`. */
  nodeFlags?: readonly string[];
}

/**
 * Sets V8's heap growing factor for this process to `1 + percent / 100`, unless its node flags
 * chose a heap policy already (then they win). V8 reads the factor at every full collection, so
 * setting it at run time takes effect from the next one. Returns whether it was set.
 *
 * @example
 * limitHeapGrowth(); // true: the old generation grows to at most 1.3× what is live
 */
export function limitHeapGrowth({ percent = HEAP_GROWING_PERCENT, nodeFlags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''] }: LimitHeapGrowthParameters = {}): boolean {
  if (!Number.isInteger(percent) || percent < 1 || percent > 300) throw new RangeError(`Expected percent to be an integer in 1-300, got ${percent}`);
  if (nodeFlags.some((flag) => OWN_POLICY.test(flag))) return false;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}
