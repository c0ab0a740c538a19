/**
 * `npm run bench -- <name> [args]`: runs one benchmark and prints its figures.
 * Benchmarks are where timing goals live (never in unit tests): the machine is shared and noisy.
 */
const benches: Record<string, { script: string; about: string }> = {
  crypto: { script: './bench-crypto.ts', about: 'per-operation cost of key derivation, OpenPGP, ECIES, EIP-712 signing' },
  storage: { script: './bench-storage.ts', about: 'uploads/s against the local storage service, or the local S3 server (--store s3)' },
  relayer: { script: './bench-relayer.ts', about: 'relayed submissions/s through the API server relayer pool, and gap repair' },
  flow: { script: './bench-flow.ts', about: 'one flow at a time: per-step and e2e p50/p95, harness CPU ms per flow' },
  funding: { script: './bench-funding.ts', about: 'time to generate, fund (BatchFunder), validate and sweep N wallets on the local stack' },
  scheduler: { script: './bench-scheduler.ts', about: 'poisson scheduler: arrival-time lag and harness CPU at several rates, with a stand-in flow' },
  'chain-state': { script: './bench-chain-state.ts', about: "anvil CPU per block as the chain's storage grows, with a state root (--state-root) and without (the default)" },
  capacity: { script: './bench-capacity.ts', about: 'highest poisson flows/s within an SLO on one local stack (step up, then bisect); per-step p95, CPU by process' },
};

const [name, ...rest] = process.argv.slice(2);
if (!name || !(name in benches) || name === '--help') {
  process.stdout.write('Usage: npm run bench -- <name> [options]\n\nBenchmarks:\n');
  for (const [key, { about }] of Object.entries(benches)) process.stdout.write(`  ${key.padEnd(12)} ${about}\n`);
  process.exit(name && name !== '--help' ? 2 : 0);
}
// Each benchmark is a standalone script; run it in its own process so its figures are not
// distorted by this one and its exit code is ours.
const { spawn } = await import('node:child_process');
const { fileURLToPath } = await import('node:url');
const script = fileURLToPath(new URL(benches[name]!.script, import.meta.url));
// Ctrl-C reaches the benchmark itself (same process group), which may stop gracefully and still
// print its figures: wait for it rather than die on the signal first. An async spawn keeps this
// event loop free, which tsx's signal relay needs to see the listener.
process.on('SIGINT', () => {});
const child = spawn(process.execPath, ['--import', 'tsx', script, ...rest], { stdio: 'inherit' });
const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
process.exit(code ?? 1);
