/**
 * Injects a scenario's process faults into the local stack on their windows: each one begins at
 * `fromMs` and is undone at `untilMs` after `arm()` (the moment the load starts), or at `stop()`
 * when the run ends first. A fault that fails to begin or to be undone is logged and recorded in
 * its stats, never thrown: the run goes on and the survival table shows it.
 */
import type { Address } from 'viem';
import type { Logger } from '../logger.ts';
import type { LocalStackControls } from '../stack/startLocalStack.ts';
import type { AnvilControls } from './createAnvilControls.ts';
import type { Boundary, ProcessFaultKind } from './faultSpec.ts';
import type { ScenarioProcessFault } from './readProcessFault.ts';

export interface ProcessFaultStats {
  name: string;
  kind: ProcessFaultKind;
  boundary: Boundary;
  /** The planned window, ms after `arm()`. */
  fromMs: number;
  untilMs: number;
  /** Epoch ms when the fault took effect, or null when it never did. */
  beganAt: number | null;
  /** Epoch ms when it was undone, or null. */
  endedAt: number | null;
  /** 1 once it took effect (the `injected` count of the survival table). */
  injected: number;
  /** What failed, beginning or undoing it. */
  error?: string;
}

export interface StartProcessFaultsParameters {
  faults: readonly ScenarioProcessFault[];
  /** The stack process's controls (personal server restart). */
  stack: LocalStackControls | undefined;
  /** Anvil's controls (chain pause, balances). */
  chain: AnvilControls | undefined;
  /** Addresses of the relay's relayer keys, indexed by a drain's `relayer`. */
  relayers: readonly Address[];
  logger: Logger;
}

export interface ProcessFaults {
  /** Starts the clock of the windows. A second call does nothing. */
  arm(): void;
  stats(): ProcessFaultStats[];
  /** Cancels what has not begun and undoes what is in effect; resolves when done. Safe to call twice. */
  stop(): Promise<void>;
}

interface Running {
  fault: ScenarioProcessFault;
  stats: ProcessFaultStats;
  timers: NodeJS.Timeout[];
  /** Begin and end, chained: an end never overtakes its begin. */
  chain: Promise<void>;
  state: 'waiting' | 'active' | 'done';
  undo: (() => Promise<void>) | undefined;
}

/**
 * @example
 * const faults = startProcessFaults({ faults: scenario.processFaults, stack: handle.controls, chain, relayers, logger });
 * // when arrivals start:
 * faults.arm();
 * // after the run:
 * await faults.stop();
 */
export function startProcessFaults({ faults, stack, chain, relayers, logger }: StartProcessFaultsParameters): ProcessFaults {
  const log = logger.child({ module: 'process-faults' });
  const running: Running[] = faults.map((fault) => ({
    fault,
    stats: { name: fault.name, kind: fault.kind, boundary: fault.boundary, fromMs: fault.fromMs, untilMs: fault.untilMs, beganAt: null, endedAt: null, injected: 0 },
    timers: [],
    chain: Promise.resolve(),
    state: 'waiting',
    undo: undefined,
  }));
  let armed = false;
  let stopping: Promise<void> | undefined;

  /** Applies the fault; returns how to undo it. */
  async function inject(fault: ScenarioProcessFault): Promise<() => Promise<void>> {
    switch (fault.kind) {
      case 'personal_server_restart': {
        if (!stack) throw new Error('no control over the stack process (a stack this run started is needed)');
        await stack.stopPersonalServer();
        return () => stack.startPersonalServer();
      }
      case 'chain_pause': {
        if (!chain) throw new Error("no control over anvil (the local stack's chain is needed)");
        await chain.pauseMining();
        return () => chain.resumeMining();
      }
      case 'relayer_drain': {
        const address = relayers[fault.relayer];
        if (!chain || address === undefined) throw new Error(`no relayer ${fault.relayer} to drain (the relay has ${relayers.length})`);
        const before = await chain.balanceOf(address);
        await chain.setBalance(address, fault.balanceWei);
        log.info({ fault: fault.name, relayer: address, beforeWei: before.toString() }, 'relayer drained');
        return () => chain.setBalance(address, before);
      }
    }
  }

  const begin = (r: Running): void => {
    r.chain = r.chain.then(async () => {
      if (r.state !== 'waiting') return;
      r.state = 'active';
      try {
        r.undo = await inject(r.fault);
        r.stats.beganAt = Date.now();
        r.stats.injected = 1;
        log.warn({ fault: r.fault.name, kind: r.fault.kind }, 'process fault began');
      } catch (err) {
        r.state = 'done';
        r.stats.error = `could not begin: ${(err as Error).message}`;
        log.error({ fault: r.fault.name, err: (err as Error).message }, 'process fault could not begin');
      }
    });
  };

  const end = (r: Running): Promise<void> => {
    r.chain = r.chain.then(async () => {
      if (r.state !== 'active') {
        r.state = 'done';
        return;
      }
      r.state = 'done';
      try {
        await r.undo?.();
        r.stats.endedAt = Date.now();
        log.warn({ fault: r.fault.name, kind: r.fault.kind }, 'process fault ended');
      } catch (err) {
        r.stats.error = `could not be undone: ${(err as Error).message}`;
        log.error({ fault: r.fault.name, err: (err as Error).message }, 'process fault could not be undone');
      }
    });
    return r.chain;
  };

  return {
    arm() {
      if (armed || stopping) return;
      armed = true;
      for (const r of running) {
        r.timers.push(setTimeout(() => begin(r), r.fault.fromMs), setTimeout(() => void end(r), r.fault.untilMs));
      }
    },
    stats: () => running.map((r) => ({ ...r.stats })),
    stop() {
      stopping ??= (async () => {
        for (const r of running) for (const timer of r.timers) clearTimeout(timer);
        await Promise.all(running.map((r) => end(r)));
      })();
      return stopping;
    },
  };
}
