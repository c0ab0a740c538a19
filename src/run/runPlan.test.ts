import { parseEther, parseGwei } from 'viem';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/loadConfig.ts';
import { formatRunPlan, GAS_PER_FLOW, planRun } from './runPlan.ts';

// Moksha's secrets as a fixture (anvil's public mnemonic and keys).
const MOKSHA = {
  VANA_PRESET: 'moksha',
  VANA_MNEMONIC: 'test test test test test test test test test test test junk',
  VANA_RELAYER_PRIVATE_KEYS: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  VANA_APP_PRIVATE_KEY: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  VANA_S3_BUCKET: 'vana-load-moksha',
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'secret',
};

describe('planRun', () => {
  it('bounds a Moksha run with keys: flows × gas × the lower of the fee cap and the chain fee', () => {
    const config = loadConfig({ env: MOKSHA });
    const plan = planRun({ config, model: { kind: 'closed', users: 5 }, chainFeePerGasWei: parseGwei('40') });
    expect(plan).toMatchObject({
      flows: 5,
      flowsEstimated: false,
      transactions: { permissions: 5, funding: 0, payer: 'VANA_RELAYER_PRIVATE_KEYS (relay keys)' },
      gas: { total: 5n * GAS_PER_FLOW },
      feePerGasWei: parseGwei('40'),
      spendBoundWei: 5n * GAS_PER_FLOW * parseGwei('40'),
      wallets: { funded: 0, valueWei: 0n },
      storage: { files: 10, where: 'S3 bucket vana-load-moksha' },
      personalServer: { operations: 5, where: 'https://test.server.vana.com/api/v1' },
      warnings: [],
    });
    // The cap (100 gwei) wins over a higher chain fee.
    expect(planRun({ config, model: { kind: 'closed', users: 5 }, chainFeePerGasWei: parseGwei('300') }).feePerGasWei).toBe(parseGwei('100'));
  });

  it('counts funding transactions and value in direct mode, and warns past the spend cap', () => {
    const config = loadConfig({ env: { ...MOKSHA, VANA_RELAY: 'direct', VANA_FUNDER_PRIVATE_KEY: MOKSHA.VANA_RELAYER_PRIVATE_KEYS, VANA_BATCH_FUNDER_ADDRESS: '0x5FbDB2315678afecb367f032d93F642f64180aa3', VANA_FUNDING_AMOUNT: '0.01' } });
    const plan = planRun({ config, model: { kind: 'poisson', rate: 2, users: 120, maxInFlight: 10 }, chainFeePerGasWei: parseGwei('20') });
    expect(plan.transactions).toEqual({ permissions: 120, funding: 3, payer: 'each user wallet, funded by VANA_FUNDER_PRIVATE_KEY (relay direct)' });
    expect(plan.wallets).toEqual({ funded: 120, valueWei: parseEther('1.2') });
    expect(plan.warnings).toEqual([
      `The spend bound ${Number(plan.spendBoundWei) / 1e18} exceeds VANA_MAX_SPEND 0.5: the run will stop (exit 3) when it reaches the cap.`,
      '120 operations on a hosted personal server: the hosted one allows 100 operations/hour per IP and per app signature by default (429 + Retry-After).',
    ]);
  });

  it('spends nothing of the harness with relay api, and estimates a time-bound model', () => {
    const config = loadConfig({ env: {} });
    const plan = planRun({ config, model: { kind: 'poisson', rate: 20, durationMs: 60_000, maxInFlight: 100 } });
    expect([plan.flows, plan.flowsEstimated, plan.spendBoundWei]).toEqual([1_200, true, 0n]);
    expect(formatRunPlan(plan, config)).toContain('   fee per gas      the local anvil chain: dev funds, nothing real is spent');
  });
});
