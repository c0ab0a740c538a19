import type { Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonRpc, type JsonRpc } from '../chain/jsonRpc.ts';
import { silentLogger } from '../logger.ts';
import { startAnvil, type Anvil } from '../stack/anvil.ts';
import { createAnvilControls, type AnvilControls } from './createAnvilControls.ts';
import { parseScenario } from './scenario.ts';
import { startProcessFaults } from './startProcessFaults.ts';

const RELAYERS: Address[] = ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'];

/** Process faults of a scenario file's `faults` list. */
const processFaults = (faults: unknown[]) => parseScenario({ name: 's', faults }, 's.json').processFaults;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('startProcessFaults against anvil', () => {
  let anvil: Anvil;
  let rpc: JsonRpc;
  let chain: AnvilControls;
  const blockNumber = async (): Promise<number> => Number(await rpc.request<string>('eth_blockNumber'));
  const balance = async (address: Address): Promise<bigint> => BigInt(await rpc.request<string>('eth_getBalance', [address, 'latest']));

  beforeAll(async () => {
    anvil = await startAnvil({ blockTime: 0.2 });
    rpc = createJsonRpc(anvil.rpcUrl, 5_000);
    chain = createAnvilControls({ rpcUrl: anvil.rpcUrl, blockTimeSeconds: 0.2, logger: silentLogger() });
  });
  afterAll(async () => {
    chain?.close();
    rpc?.close();
    await anvil?.stop();
  });

  it('chain_pause: no block is mined inside the window, and blocks come again at the block time after it', async () => {
    const faults = startProcessFaults({ faults: processFaults([{ kind: 'chain_pause', from: 100, until: 1_100 }]), stack: undefined, chain, relayers: RELAYERS, logger: silentLogger() });
    faults.arm();
    await sleep(300);
    const paused = await blockNumber();
    await sleep(600);
    const stillPaused = await blockNumber();
    await sleep(1_300);
    const resumed = await blockNumber();
    await faults.stop();
    expect(stillPaused).toBe(paused);
    // 1.3 s at 0.2 s blocks: several blocks, mined by the controls' own evm_mine loop.
    expect(resumed - stillPaused).toBeGreaterThanOrEqual(3);
    const [stats] = faults.stats();
    expect(stats).toMatchObject({ name: 'rpc:chain_pause#0', kind: 'chain_pause', boundary: 'rpc', fromMs: 100, untilMs: 1_100, injected: 1 });
    expect(stats!.endedAt! - stats!.beganAt!).toBeGreaterThanOrEqual(900);
  });

  it('relayer_drain: the relayer has the given balance inside the window and its own again after', async () => {
    const faults = startProcessFaults({
      faults: processFaults([{ kind: 'relayer_drain', relayer: 1, balance: '0.5', from: 50, until: 600 }]),
      stack: undefined,
      chain,
      relayers: RELAYERS,
      logger: silentLogger(),
    });
    const before = await balance(RELAYERS[1]!);
    faults.arm();
    await sleep(300);
    const during = await balance(RELAYERS[1]!);
    await sleep(600);
    expect([during, await balance(RELAYERS[1]!)]).toEqual([5n * 10n ** 17n, before]);
    await faults.stop();
  });

  it('stop() undoes a fault in effect and cancels one not begun', async () => {
    const faults = startProcessFaults({
      faults: processFaults([
        { name: 'now', kind: 'relayer_drain', relayer: 0, from: 0, until: 60_000 },
        { name: 'later', kind: 'chain_pause', from: 50_000, until: 60_000 },
      ]),
      stack: undefined,
      chain,
      relayers: RELAYERS,
      logger: silentLogger(),
    });
    const before = await balance(RELAYERS[0]!);
    faults.arm();
    await sleep(200);
    expect(await balance(RELAYERS[0]!)).toBe(0n);
    await faults.stop();
    expect(await balance(RELAYERS[0]!)).toBe(before);
    const [now, later] = faults.stats();
    expect([now!.injected, now!.endedAt !== null, later!.injected, later!.beganAt]).toEqual([1, true, 0, null]);
    const height = await blockNumber();
    await sleep(500);
    expect(await blockNumber()).toBeGreaterThan(height);
  });

  it('error: records a fault that cannot begin, and goes on', async () => {
    const faults = startProcessFaults({
      faults: processFaults([
        { name: 'no-such-relayer', kind: 'relayer_drain', relayer: 7, from: 0, until: 100 },
        { name: 'no-stack', kind: 'personal_server_restart', from: 0, until: 100 },
      ]),
      stack: undefined,
      chain,
      relayers: RELAYERS,
      logger: silentLogger(),
    });
    faults.arm();
    await sleep(200);
    await faults.stop();
    expect(faults.stats().map((s) => [s.name, s.injected, s.error])).toEqual([
      ['no-such-relayer', 0, 'could not begin: no relayer 7 to drain (the relay has 2)'],
      ['no-stack', 0, 'could not begin: no control over the stack process (a stack this run started is needed)'],
    ]);
  });
});
