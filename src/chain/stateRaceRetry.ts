/**
 * Anvil started with bare `--prune-history` keeps the state of the newest block only. A read
 * (`eth_call`, `eth_estimateGas`, `eth_getTransactionCount`…) resolves "latest" to block N, and
 * when block N+1 is mined before the read reaches the state, anvil answers
 * "BlockOutOfRangeError: block height is N+1 but requested was N". Nothing was executed, and
 * the same request a moment later reads block N+1, so the transport repeats it. Keeping states
 * around (`--prune-history 16`) avoids the race but lets anvil's memory grow without bound over a
 * long run; see src/stack/anvil.ts.
 */
import type { Transport } from 'viem';

/** Attempts after the first. The race needs a block mined mid-read; two in a row are rare. */
export const STATE_RACE_RETRIES = 5;

const STATE_RACE = /BlockOutOfRangeError|block height is \d+ but requested was \d+/;

/** True when `err`, or an error in its `cause` chain, is anvil's pruned-state answer. */
export function isPrunedStateRace(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const details = (e as { details?: unknown }).details;
    if (STATE_RACE.test(e.message) || (typeof details === 'string' && STATE_RACE.test(details))) return true;
  }
  return false;
}

/** Runs `request`, repeating it while it loses the pruned-state race, `retries` times at most. */
export async function retryStateRace<T>(request: () => Promise<T>, retries = STATE_RACE_RETRIES): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request();
    } catch (err) {
      if (attempt >= retries || !isPrunedStateRace(err)) throw err;
      // Mining a block takes anvil well under a millisecond; yield so it finishes.
      await new Promise((resolve) => setTimeout(resolve, 2 * (attempt + 1)));
    }
  }
}

/** `transport`, with requests that lose the pruned-state race repeated (see the module comment). */
export function withStateRaceRetry<T extends Transport>(transport: T, retries = STATE_RACE_RETRIES): T {
  const wrapped: Transport = (params) => {
    const inner = transport(params);
    const request: typeof inner.request = (args, options) => retryStateRace(() => inner.request(args, options), retries);
    return { ...inner, request };
  };
  return wrapped as T;
}
