/**
 * Retries and the circuit breaker around the client for one run (ARCHITECTURE.md 5): the config's
 * retry policy per step (seeded jitter with --seed), each retry counted; the breaker's transitions
 * counted, logged and told to the reporters.
 */
import type { StepRetry } from '../client/VanaLoadTestClient.ts';
import type { VanaLoadConfig } from '../config/schema.ts';
import { createCircuitBreaker, type BreakerStateChange, type CircuitBreaker } from '../load/circuitBreaker.ts';
import type { Logger } from '../logger.ts';
import type { MetricsCollector } from '../metrics/collector.ts';
import { withRetry } from '../util/retry.ts';
import { createSeededRandom, seedFromString } from '../util/seededRandom.ts';

export interface RunResilience {
  retry: StepRetry;
  breaker: CircuitBreaker;
}

/**
 * @example
 * const { retry, breaker } = createRunResilience({ config, collector, logger, force, onBreakerChange: report.onBreakerChange });
 */
export function createRunResilience({
  config,
  collector,
  logger,
  force,
  onBreakerChange,
}: {
  config: Readonly<VanaLoadConfig>;
  collector: MetricsCollector;
  logger: Logger;
  /** Aborting it stops retrying (a second Ctrl-C, a failed infrastructure). */
  force: AbortSignal;
  onBreakerChange: (change: BreakerStateChange) => void;
}): RunResilience {
  // With --seed the backoff jitter is seeded too; its draws still follow the order flows retry in.
  const jitter = config.load.seed === undefined ? Math.random : createSeededRandom(seedFromString(`retry:${config.load.seed}`));
  const retry: StepRetry = (step, fn, onRetry) =>
    withRetry(() => fn(), {
      step,
      random: jitter,
      maxAttempts: config.retry.maxAttempts,
      baseDelayMs: config.retry.baseDelayMs,
      maxDelayMs: config.retry.maxDelayMs,
      signal: force,
      onRetry: (info) => {
        onRetry();
        collector.stepRetried(step);
        logger.debug({ step, attempt: info.attempt, delayMs: Math.round(info.delayMs), errorClass: info.errorClass }, 'retrying step');
      },
    });
  const breaker = createCircuitBreaker({
    windowMs: config.breaker.windowMs,
    minRequests: config.breaker.minRequests,
    failureRateToOpen: config.breaker.failureRateThreshold,
    openMs: config.breaker.halfOpenAfterMs,
    onStateChange: (change) => {
      collector.breakerChanged(change.to);
      logger.warn({ from: change.from, to: change.to, reason: change.reason }, 'circuit breaker');
      onBreakerChange(change);
    },
  });
  collector.breakerChanged(breaker.state()); // in every sample and the summary from the start
  return { retry, breaker };
}
