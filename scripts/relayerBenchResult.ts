/** What the relayer bench is asked to do, what it measured, and how that is printed. */
import type { GasLimitMode, RelayerPoolStats } from '../src/chain/relayerPool.ts';
import type { RepairDemoResult } from './relayerRepairDemo.ts';

/** `n` rounded to `digits` decimals. */
export const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

export interface RelayerBenchOptions {
  /** Relay requests to send, one fresh user each. Default 2000. */
  submissions?: number;
  /** Concurrent clients posting to `/api/relay`. Default 64. */
  clients?: number;
  /** Relayer accounts in the pool. Default 4. */
  relayers?: number;
  /** Gas-limit mode of the pool. Default `'cached'`. */
  gasMode?: GasLimitMode;
  /** anvil block time in seconds; 0 = automine. Default 1. */
  blockTime?: number;
  /** anvil block gas limit. Default 1_000_000_000. */
  blockGasLimit?: bigint;
  /**
   * `'api'` (default): clients POST signed requests to `/api/relay`. `'pool'`: the same calls go
   * straight to `pool.submit` inside the server process (no HTTP, no signature recovery), which
   * isolates what the relayer pool itself sustains.
   */
  path?: 'api' | 'pool';
  /** Run the drop-repair demo after the throughput run. Default true. */
  repairDemo?: boolean;
  /** The API server's preflight check (`api` path). Default true. */
  preflight?: boolean;
  /** Requests that would revert, mixed into the stream (`api` path). Default 0. */
  invalid?: number;
  /** How the relayers sign: `native` (libsecp256k1, default) or `viem`. */
  signer?: 'native' | 'viem';
  /** Progress lines; default: stderr. */
  progress?: (line: string) => void;
}

export interface RelayerBenchResult {
  submissions: number;
  clients: number;
  relayers: number;
  gasMode: GasLimitMode;
  blockTime: number;
  path: 'api' | 'pool';
  preflight: boolean;
  invalid: number;
  signer: 'native' | 'viem';
  /** Pre-signing (untimed): typed-data signatures per second in this process. */
  signsPerSecond: number;
  accepted: number;
  submitSeconds: number;
  submitRate: number;
  mined: number;
  minedSeconds: number;
  minedRate: number;
  /** `missing`: the client got a hash that never mined (e.g. replaced, so the hash changed). */
  receipts: { success: number; reverted: number; missing: number };
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Non-2xx answers that blame a relayer nonce (what the pool must hide). */
  nonceErrors: number;
  /** Answers `Refused before sending: …` (the preflight), and the server's count by reason. */
  refusals: number;
  refusedByReason: Record<string, number>;
  /** The server's preflight simulation latency (last 1,024), ms. */
  preflightSimulateMs?: { p50: number; p95: number; max: number };
  reverts: number;
  otherErrors: number;
  firstErrors: string[];
  /** CPU seconds used during the timed phase, per process. */
  cpuSeconds: { client: number; server: number; anvil: number };
  /** 1-minute load average at the start and the end of the timed phase. */
  loadAverage: { start: number; end: number };
  pool: RelayerPoolStats;
  repairDemo?: RepairDemoResult;
}

/** The bench's result as the lines it prints. */
export function formatRelayerBench(result: RelayerBenchResult): string {
  const perTx = (seconds: number) => round((seconds * 1000) / Math.max(1, result.accepted + result.refusals), 2);
  const share = (seconds: number) => round((100 * seconds) / Math.max(0.001, result.minedSeconds), 0);
  const lines = [
    `  path ${result.path} · submissions ${result.submissions}${result.invalid ? ` + ${result.invalid} that would revert` : ''} · clients ${result.clients} · relayers ${result.relayers} (${result.signer} signing) · gas limit mode ${result.gasMode} · preflight ${result.preflight ? 'on' : 'off'} · chain ${result.blockTime > 0 ? `${result.blockTime} s blocks` : 'automine'}`,
    `  pre-signing (untimed): ${result.signsPerSecond} typed-data signatures/s`,
    `  submit:  ${result.accepted} accepted in ${result.submitSeconds} s → ${result.submitRate} tx/s`,
    `  mined:   ${result.mined} mined in ${result.minedSeconds} s → ${result.minedRate} tx/s; receipts ${result.receipts.success} success, ${result.receipts.reverted} reverted, ${result.receipts.missing} missing`,
    `  ${result.path === 'api' ? '/api/relay' : 'pool.submit'} latency: p50 ${result.latencyMs.p50} ms · p95 ${result.latencyMs.p95} ms · p99 ${result.latencyMs.p99} ms · max ${result.latencyMs.max} ms`,
    `  errors reaching clients: nonce ${result.nonceErrors} · revert ${result.reverts} · other ${result.otherErrors}${result.firstErrors.length ? ` (first: ${result.firstErrors.join(' | ')})` : ''}`,
    `  refused before sending: ${result.refusals}${Object.keys(result.refusedByReason).length ? ` (${Object.entries(result.refusedByReason).map(([reason, n]) => `${reason} ${n}`).join(', ')})` : ''} · reverted on chain: ${result.receipts.reverted}${result.preflightSimulateMs ? ` · preflight eth_call p50 ${result.preflightSimulateMs.p50} ms, p95 ${result.preflightSimulateMs.p95} ms, max ${result.preflightSimulateMs.max} ms` : ''}`,
    `  pool: resyncs ${result.pool.resyncs} · retries ${result.pool.retries} · replacements ${result.pool.replacements} · gap repairs ${result.pool.gapRepairs} · gas estimates ${result.pool.gasEstimates}`,
    `  CPU in the timed phase: client ${result.cpuSeconds.client} s · API server + pool ${result.cpuSeconds.server} s (${perTx(result.cpuSeconds.server)} ms/tx, ${share(result.cpuSeconds.server)} % of a core) · anvil ${result.cpuSeconds.anvil} s (${perTx(result.cpuSeconds.anvil)} ms/tx, ${share(result.cpuSeconds.anvil)} %) · load average ${result.loadAverage.start} → ${result.loadAverage.end}`,
  ];
  const demo = result.repairDemo;
  if (demo) {
    lines.push(
      `  drop-repair demo: dropped nonce ${demo.droppedNonce} of a relayer with ${demo.queuedBehind} txs queued behind it;` +
        ` watcher re-sent it after ${demo.repairedAfterMs} ms; all ${demo.txs} txs mined after ${demo.allMinedAfterMs} ms;` +
        ` dropped tx mined under its original hash: ${demo.victimHashKept ? 'yes' : 'no'}` +
        ` (gap repairs ${demo.stats.gapRepairs}, replacements ${demo.stats.replacements}, fills ${demo.stats.gapFills})`,
    );
  }
  return lines.join('\n');
}
