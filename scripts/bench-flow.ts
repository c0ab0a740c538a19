/**
 * `npm run bench -- flow [--flows 30] [--block-time 0] [--data-size small]`: single flows one after
 * another on a freshly spawned local stack (zero inference latency), then per-step p50/p95, e2e
 * p50/p95 and the harness's CPU ms per flow. The first flows warm up the JIT and are not counted.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/loadConfig.ts';
import { openFlowEnvironment } from '../src/run/flowEnvironment.ts';
import { generateUserData } from '../src/client/syntheticData.ts';
import { STEP_NAMES } from '../src/flow.ts';

const { values } = parseArgs({
  options: { flows: { type: 'string', default: '30' }, 'block-time': { type: 'string', default: '0' }, 'data-size': { type: 'string', default: 'small' }, warmup: { type: 'string', default: '5' } },
});
const flows = Number(values.flows);
const warmup = Number(values.warmup);
const config = loadConfig({ env: { VANA_BLOCK_TIME: values['block-time'], VANA_DATA_SIZE: values['data-size'] } });
const t0 = performance.now();
const env = await openFlowEnvironment({ config, attach: false });
const startMs = performance.now() - t0;
const gas: bigint[] = [];
const size = config.data.size === 'mixed' ? 'small' : config.data.size;
const perStep = new Map<string, number[]>();
let cpuMicros = 0;
let failures = 0;
try {
  for (let i = 0; i < warmup + flows; i++) {
    const cpu0 = process.cpuUsage();
    const r = await env.client.executeDataPortabilityFlow(generateUserData(i, size), config.data.prompt, 'bench', env.personalServerUrl, {
      account: env.wallets.account(10_000 + i),
      flowId: i,
      dataSize: size,
    });
    const cpu = process.cpuUsage(cpu0);
    if (i < warmup) continue;
    if (!r.success) {
      failures += 1;
      console.error(`flow ${i} failed at ${r.error?.step}: ${r.error?.message}`);
      continue;
    }
    cpuMicros += cpu.user + cpu.system;
    for (const [step, ms] of Object.entries(r.steps)) perStep.set(step, [...(perStep.get(step) ?? []), ms]);
    perStep.set('e2e', [...(perStep.get('e2e') ?? []), r.e2eMs]);
  }
  // Gas of addServerFilesAndPermissions: a user's first flow (registers the server) and a repeat.
  for (let k = 0; k < 2; k++) {
    const r = await env.client.executeDataPortabilityFlow(generateUserData(k, size), config.data.prompt, 'bench-gas', env.personalServerUrl, {
      account: env.wallets.account(50_000),
      flowId: warmup + flows + k,
      dataSize: size,
    });
    if (r.txHash) gas.push((await env.publicClient.getTransactionReceipt({ hash: r.txHash })).gasUsed);
  }
} finally {
  await env.close();
}
const q = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
console.log(`flow bench: ${flows} sequential flows (+${warmup} warm-up), block time ${values['block-time']} s (0 = automine), data ${size}, sim inference latency 0`);
console.log(`${'step'.padEnd(18)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}`);
for (const step of [...STEP_NAMES, 'e2e']) {
  const xs = perStep.get(step) ?? [];
  console.log(`${step.padEnd(18)}${q(xs, 0.5).toFixed(1).padStart(9)}${q(xs, 0.95).toFixed(1).padStart(9)}`);
}
const ok = flows - failures;
console.log(`harness CPU per flow: ${(cpuMicros / 1000 / Math.max(1, ok)).toFixed(1)} ms (user+system, this process only)`);
console.log(`gas of addServerFilesAndPermissions: first flow of a user ${gas[0] ?? '-'}, repeat ${gas[1] ?? '-'}`);
console.log(`stack start (anvil + contract deployment + services, spawned process, until healthy): ${startMs.toFixed(0)} ms`);
console.log(`failures: ${failures}`);
process.exit(failures > 0 ? 1 : 0);
