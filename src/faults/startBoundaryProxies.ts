/**
 * One fault proxy per endpoint of each boundary a scenario has faults for, started unarmed (they
 * forward untouched until `arm()`), each with a random source seeded from the scenario's seed, the
 * boundary and the endpoint's index, so a scenario replays the same draws.
 */
import type { Logger } from '../logger.ts';
import { createSeededRandom, seedFromString } from '../util/seededRandom.ts';
import type { Boundary } from './faultSpec.ts';
import { faultsFor, type Scenario } from './scenario.ts';
import { startFaultProxy, type FaultProxy, type FaultProxyStats } from './startFaultProxy.ts';

/** The endpoints of each boundary the run crosses (RPC may have several URLs). */
export type BoundaryTargets = Partial<Record<Boundary, readonly string[]>>;

export interface BoundaryProxyStats extends FaultProxyStats {
  boundary: Boundary;
  /** Index of the endpoint among its boundary's targets. */
  endpoint: number;
}

export interface BoundaryProxies {
  /** Proxy URLs of each proxied boundary, in the order of its targets. */
  urls: Partial<Record<Boundary, string[]>>;
  arm(): void;
  stats(): BoundaryProxyStats[];
  /** Faults injected by every proxy (requests a fault hit, latency included). */
  injected(): number;
  stop(): Promise<void>;
}

export interface StartBoundaryProxiesParameters {
  scenario: Pick<Scenario, 'faults' | 'seed'>;
  targets: BoundaryTargets;
  /** Remote targets: send the target's Host upstream (a CDN or virtual host routes by it). */
  rewriteHost?: boolean;
  logger: Logger;
}

/**
 * Starts the proxies; stops those already started when one fails. Boundaries without faults get
 * none. Throws when a boundary with faults has no target (the caller checks that first).
 *
 * @example
 * const proxies = await startBoundaryProxies({ scenario, targets: { storage: [storageUrl] }, logger });
 * proxies.urls.storage![0]; // http://127.0.0.1:41234
 */
export async function startBoundaryProxies({ scenario, targets, rewriteHost = false, logger }: StartBoundaryProxiesParameters): Promise<BoundaryProxies> {
  const started: Array<{ boundary: Boundary; endpoint: number; proxy: FaultProxy }> = [];
  const urls: Partial<Record<Boundary, string[]>> = {};
  const boundaries = [...new Set(scenario.faults.map((f) => f.boundary))];
  try {
    for (const boundary of boundaries) {
      const list = targets[boundary] ?? [];
      if (list.length === 0) throw new Error(`no ${boundary} endpoint to put a fault proxy in front of`);
      urls[boundary] = [];
      for (const [endpoint, target] of list.entries()) {
        const proxy = await startFaultProxy({
          target,
          faults: faultsFor(scenario, boundary),
          random: createSeededRandom(seedFromString(`${scenario.seed}:${boundary}:${endpoint}`)),
          rewriteHost,
          armed: false,
          name: list.length === 1 ? boundary : `${boundary}#${endpoint}`,
          logger,
        });
        started.push({ boundary, endpoint, proxy });
        urls[boundary].push(proxy.url);
      }
    }
  } catch (err) {
    await Promise.all(started.map(({ proxy }) => proxy.stop()));
    throw err;
  }
  const stats = (): BoundaryProxyStats[] => started.map(({ boundary, endpoint, proxy }) => ({ boundary, endpoint, ...proxy.stats() }));
  return {
    urls,
    arm: () => {
      for (const { proxy } of started) proxy.arm();
    },
    stats,
    injected: () => stats().reduce((sum, s) => sum + s.injected, 0),
    stop: async () => {
      await Promise.all(started.map(({ proxy }) => proxy.stop()));
    },
  };
}
