/** The relayer bench's command line. */
import type { GasLimitMode } from '../src/chain/relayerPool.ts';

/** The bench's flags (see bench-relayer.ts's header); a bad value exits 2 with a line saying what was expected. */
export function parseRelayerBenchArgs(argv: readonly string[]) {
  const value = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (name: string, fallback: number) => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n <= 0) {
      process.stderr.write(`Expected --${name} to be a positive integer, got ${raw}\n`);
      process.exit(2);
    }
    return n;
  };
  const gas = value('gas') ?? 'cached';
  if (!['estimate', 'cached', 'both'].includes(gas)) {
    process.stderr.write(`Expected --gas to be cached, estimate or both, got ${gas}\n`);
    process.exit(2);
  }
  const blockTime = Number(value('block-time') ?? '1');
  if (!Number.isFinite(blockTime) || blockTime < 0) {
    process.stderr.write(`Expected --block-time to be seconds >= 0 (0 = automine), got ${value('block-time')}\n`);
    process.exit(2);
  }
  const path = value('path') ?? 'api';
  if (path !== 'api' && path !== 'pool') {
    process.stderr.write(`Expected --path to be api or pool, got ${path}\n`);
    process.exit(2);
  }
  const preflight = value('preflight') ?? 'on';
  if (preflight !== 'on' && preflight !== 'off') {
    process.stderr.write(`Expected --preflight to be on or off, got ${preflight}\n`);
    process.exit(2);
  }
  const invalidRaw = value('invalid') ?? '0';
  const invalid = Number(invalidRaw);
  if (!Number.isSafeInteger(invalid) || invalid < 0 || (invalid > 0 && (path !== 'api' || preflight === 'off'))) {
    process.stderr.write(`Expected --invalid to be an integer >= 0 (with --path api and --preflight on), got ${invalidRaw}\n`);
    process.exit(2);
  }
  const signer = value('signer') ?? 'native';
  if (signer !== 'native' && signer !== 'viem') {
    process.stderr.write(`Expected --signer to be native or viem, got ${signer}\n`);
    process.exit(2);
  }
  return {
    path: path as 'api' | 'pool',
    signer: signer as 'native' | 'viem',
    preflight: preflight === 'on',
    invalid,
    blockTime,
    blockGasLimit: BigInt(int('gas-limit', 1_000_000_000)),
    submissions: int('submissions', 2000),
    clients: int('clients', 64),
    relayers: int('relayers', 4),
    modes: (gas === 'both' ? ['cached', 'estimate'] : [gas]) as GasLimitMode[],
    demo: !argv.includes('--no-demo'),
    json: argv.includes('--json'),
  };
}
