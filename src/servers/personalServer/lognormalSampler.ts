/**
 * Simulated inference latency: a lognormal distribution fitted to a median and a 95th
 * percentile, the two figures people actually know about an LLM endpoint. Pure: the random
 * source is passed in, so tests pin the output with a seed.
 */
import { ConfigError } from '../../errors.ts';
import type { RandomSource } from '../../util/seededRandom.ts';

/** z such that P(Z <= z) = 0.95 for a standard normal Z. */
const Z_95 = 1.6448536269514722;

export interface LatencyPercentiles {
  /** Median latency, ms. 0 (with p95Ms 0) means no latency at all. */
  p50Ms: number;
  /** 95th-percentile latency, ms; at least p50Ms. Equal to p50Ms gives a constant. */
  p95Ms: number;
}

/** Draws one latency in ms. */
export type LatencySampler = () => number;

/**
 * Fits a lognormal to `p50Ms`/`p95Ms` (mu = ln p50, sigma = (ln p95 - ln p50) / z_0.95) and
 * returns a sampler drawing from it with Box-Muller normals.
 *
 * @example
 * const sample = createLognormalSampler({ p50Ms: 800, p95Ms: 3000 }, createSeededRandom(1));
 * await sleep(sample());
 */
export function createLognormalSampler({ p50Ms, p95Ms }: LatencyPercentiles, random: RandomSource): LatencySampler {
  if (!Number.isFinite(p50Ms) || !Number.isFinite(p95Ms) || p50Ms < 0 || p95Ms < p50Ms) {
    throw new ConfigError(`Expected latency percentiles with 0 <= p50Ms <= p95Ms, got p50Ms=${p50Ms} p95Ms=${p95Ms}`, {
      code: 'PERSONAL_SERVER_LATENCY_INVALID',
    });
  }
  if (p50Ms === 0) {
    if (p95Ms !== 0) {
      throw new ConfigError(`Expected p95Ms = 0 when p50Ms = 0 (a lognormal has no zero median), got p95Ms=${p95Ms}`, {
        code: 'PERSONAL_SERVER_LATENCY_INVALID',
      });
    }
    return () => 0;
  }
  const mu = Math.log(p50Ms);
  const sigma = (Math.log(p95Ms) - mu) / Z_95;
  if (sigma === 0) return () => p50Ms;
  return () => {
    // 1 - random() lies in (0, 1], so the logarithm stays finite.
    const u1 = 1 - random();
    const u2 = random();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return Math.exp(mu + sigma * z);
  };
}
