/**
 * The relayer bench's server side, run in a child forked with `--serve` so that client work never
 * shares its event loop: anvil, the contracts, the relayer pool and the API server. It answers the
 * parent's `stats`, `direct` (the pool path: submits inside this process) and `stop` messages.
 */
import { toHex, type Address, type Hex } from 'viem';
import { fundRelayers } from '../src/chain/fundRelayers.ts';
import { privateKeyToNativeSigningAccount } from '../src/chain/nativeSigningAccount.ts';
import { createRelayerPool, type GasLimitMode, type RelayerPoolStats } from '../src/chain/relayerPool.ts';
import { VanaLoadError } from '../src/errors.ts';
import { dataPortabilityPermissionsAbi } from '../src/protocol/abis.ts';
import { startApiServer } from '../src/servers/api/apiServer.ts';
import { startAnvil } from '../src/stack/anvil.ts';
import { deployContracts, registerGrantee } from '../src/stack/deployContracts.ts';
import { appAccount, deployerAccount, relayerAccount } from '../src/stack/devAccounts.ts';
import { freePort } from '../src/util/freePort.ts';

/** What the bench's server child is asked to start (passed as JSON after `--serve`). */
export interface ServeOptions {
  relayers: number;
  preflight: boolean;
  signer: 'native' | 'viem';
  gasMode: GasLimitMode;
  blockTime: number;
  /** Decimal string: IPC carries JSON. */
  blockGasLimit: string;
}

/** Messages the server child sends its parent over IPC. */
export type ServerMessage =
  | { type: 'ready'; apiUrl: string; rpcUrl: string; chainId: number; permissions: Address; granteeId: string; relayers: Address[]; anvilPid: number }
  | { type: 'stats'; stats: RelayerPoolStats }
  | { type: 'direct-done'; results: DirectResult[] };

/** One `pool.submit` of the `pool` path, run inside the server process. */
export type DirectResult = { ms: number; hash: Hex } | { ms: number; errorClass: string; error: string };

/** The server side, run in the forked child: anvil + contracts + relayer pool + API server. */
export async function serve({ relayers: relayerCount, preflight, signer, gasMode, blockTime, blockGasLimit }: ServeOptions): Promise<void> {
  const anvil = await startAnvil({ port: await freePort(), gasLimit: BigInt(blockGasLimit), ...(blockTime > 0 ? { blockTime } : {}) });
  const stops: Array<() => Promise<void>> = [() => anvil.stop()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    process.exit(0);
  };
  process.on('disconnect', () => void stopAll());
  const contracts = await deployContracts({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, deployer: deployerAccount() });
  const granteeId = await registerGrantee({
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    grantees: contracts.dataPortabilityGrantees,
    account: appAccount(),
  });
  const accounts = Array.from({ length: relayerCount }, (_, i) =>
    signer === 'native' ? privateKeyToNativeSigningAccount(toHex(relayerAccount(i).getHdKey().privateKey!)) : relayerAccount(i),
  );
  await fundRelayers({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, funder: deployerAccount(), relayers: accounts.map((a) => a.address) });
  const pool = await createRelayerPool({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, accounts, gas: { mode: gasMode } });
  stops.push(() => pool.stop());
  const api = await startApiServer({
    port: 0,
    chainId: anvil.chainId,
    rpcUrl: anvil.rpcUrl,
    permissionsAddress: contracts.dataPortabilityPermissions,
    relayerPool: pool,
    personalServerUrl: 'http://127.0.0.1:1',
    appAccount: appAccount(),
    preflight,
  });
  stops.push(() => api.stop());
  process.on('message', (message: { type: string; datas?: Hex[]; clients?: number }) => {
    if (message.type === 'stats') process.send?.({ type: 'stats', stats: pool.stats() } satisfies ServerMessage);
    if (message.type === 'stop') void stopAll();
    if (message.type === 'direct') {
      const datas = message.datas ?? [];
      const results: DirectResult[] = [];
      let next = 0;
      void Promise.all(
        Array.from({ length: message.clients ?? 1 }, async () => {
          while (next < datas.length) {
            const data = datas[next++]!;
            const t0 = performance.now();
            try {
              const { hash } = await pool.submit({ to: contracts.dataPortabilityPermissions, data, abi: dataPortabilityPermissionsAbi });
              results.push({ ms: performance.now() - t0, hash });
            } catch (err) {
              const error = err instanceof VanaLoadError ? err : undefined;
              results.push({ ms: performance.now() - t0, errorClass: error?.errorClass ?? 'other', error: error?.shortMessage ?? String(err) });
            }
          }
        }),
      ).then(() => process.send?.({ type: 'direct-done', results } satisfies ServerMessage));
    }
  });
  process.send?.({
    type: 'ready',
    apiUrl: api.url,
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    permissions: contracts.dataPortabilityPermissions,
    granteeId: granteeId.toString(),
    relayers: accounts.map((a) => a.address),
    anvilPid: anvil.pid,
  } satisfies ServerMessage);
}
