/**
 * The remote path rehearsed end to end, as a user would run it against a real deployment: a stack
 * started the way a separate deployment is (its own process and ports, chain id 14800, its relayer
 * and app keys passed as secrets, S3 storage with SigV4 checked), then MS-02 and MS-03 with
 * `VANA_TARGET=remote` in every relay mode × inference mode, the harness starting nothing local.
 * A second deployment answers relays as a stateful relayer does (`pending` + `status_check`) and
 * stores grant files (`storeGrantFile`).
 *
 * Every child runs in an empty temporary directory with no VANA_* variables of ours, so neither a
 * developer's .env nor a running `npm run dev` stack is used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateMnemonic, english } from 'viem/accounts';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { parseEther, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fundRelayers } from '../src/chain/fundRelayers.ts';
import type { RunSummary } from '../src/metrics/types.ts';
import { deployerAccount } from '../src/stack/devAccounts.ts';
import { parseManifest, type StackManifest } from '../src/stack/manifest.ts';
import { TSX_LOADER_URL } from '../src/util/tsxLoader.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'src/cli/main.ts');
const MS02 = join(ROOT, 'milestones/ms-02/test-single-e2e.ts');
const MS03 = join(ROOT, 'milestones/ms-03/test-multi-user.ts');
const BASE_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VANA_') && !name.startsWith('AWS_')));
const base = mkdtempSync(join(tmpdir(), 'vana-load-rehearsal-'));

interface Exited {
  code: number | null;
  out: string;
}

function runNode(args: readonly string[], env: Record<string, string>, cwd = base): { child: ChildProcess; exited: Promise<Exited> } {
  const child = spawn(process.execPath, ['--import', TSX_LOADER_URL, ...args], {
    cwd,
    env: { ...BASE_ENV, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return { child, exited: new Promise((resolve) => child.on('close', (code) => resolve({ code, out }))) };
}

/** A deployment's secrets, as its operator would hold them. */
interface Deployment {
  manifest: StackManifest;
  appKey: Hex;
  secrets: Hex[];
  stop(): Promise<void>;
}

async function startDeployment(name: string, relayResponse: 'submitted' | 'pending'): Promise<Deployment> {
  const dir = mkdtempSync(join(base, `${name}-`));
  const manifestPath = join(dir, 'stack.json');
  const relayerKeys = [generatePrivateKey(), generatePrivateKey()];
  const appKey = generatePrivateKey();
  const ports = ['--anvil-port', '0', '--api-port', '0', '--storage-port', '0', '--personal-server-port', '0'];
  const { child, exited } = runNode(
    [CLI, 'stack', '--stack-chain-id', '14800', '--storage', 's3', '--relay-response', relayResponse, '--block-time', '0.2', ...ports, '--manifest', manifestPath],
    { VANA_STACK_RELAYER_PRIVATE_KEYS: relayerKeys.join(','), VANA_STACK_APP_PRIVATE_KEY: appKey },
    dir,
  );
  const started = Date.now();
  while (!existsSync(manifestPath)) {
    if (child.exitCode !== null || Date.now() - started > 90_000) throw new Error(`deployment ${name} did not start:\n${(await Promise.race([exited, Promise.resolve({ out: '' })])).out}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const manifest = parseManifest(JSON.parse(readFileSync(manifestPath, 'utf8')) as unknown, manifestPath);
  return {
    manifest,
    appKey,
    secrets: [...relayerKeys, appKey],
    stop: async () => {
      child.kill('SIGINT');
      const { code, out } = await exited;
      expect(code, out).toBe(0);
      // The deployment's own output never shows its secrets either.
      for (const key of [...relayerKeys, appKey]) expect(out).not.toContain(key.slice(2));
    },
  };
}

const RELAYS = ['api', 'keys', 'direct'] as const;
let funding: Promise<unknown> = Promise.resolve();
const INFERENCES = ['proxy', 'personal-server'] as const;

/** The .env a user writes for a remote run of one relay × inference mode against `d`. */
async function remoteEnv(d: Deployment, relay: (typeof RELAYS)[number], inference: (typeof INFERENCES)[number], extra: Record<string, string> = {}) {
  const m = d.manifest;
  const env: Record<string, string> = {
    VANA_TARGET: 'remote',
    VANA_RPC_URLS: m.rpcUrl,
    VANA_CHAIN_ID: '14800',
    VANA_PERMISSIONS_ADDRESS: m.contracts.dataPortabilityPermissions,
    VANA_PERSONAL_SERVER_URL: m.personalServerUrl,
    // Fresh users per run: concurrent runs never share a user's nonce.
    VANA_MNEMONIC: generateMnemonic(english),
    VANA_STORAGE_PROVIDER: 's3',
    VANA_S3_ENDPOINT: m.s3!.endpoint,
    VANA_S3_BUCKET: m.s3!.bucket,
    AWS_REGION: m.s3!.region,
    AWS_ACCESS_KEY_ID: m.s3!.accessKeyId,
    AWS_SECRET_ACCESS_KEY: m.s3!.secretAccessKey,
    VANA_RELAY: relay,
    VANA_INFERENCE: inference,
    VANA_RESULTS_DIR: join(base, 'results'),
    VANA_LOG_LEVEL: 'debug',
    ...extra,
  };
  const secrets: Hex[] = [];
  if (relay === 'api' || inference === 'proxy') env.VANA_API_URL = m.apiUrl;
  // Personal-server mode signs with the app key, and finds the grantee id from its address; proxy mode is told the id.
  if (inference === 'personal-server') {
    env.VANA_APP_PRIVATE_KEY = d.appKey;
    secrets.push(d.appKey);
  } else env.VANA_GRANTEE_ID = m.granteeId;
  if (relay === 'keys' || relay === 'direct') {
    // The user's own keys (relayers, or the funder of user wallets), funded as the user would fund them.
    const key = generatePrivateKey();
    // One funding at a time: the concurrent tests share the deployer's nonce.
    const funded = (funding = funding.then(() =>
      fundRelayers({ rpcUrl: m.rpcUrl, chainId: m.chainId, funder: deployerAccount(), relayers: [privateKeyToAccount(key).address], balance: parseEther('50') }),
    ));
    await funded;
    if (relay === 'keys') env.VANA_RELAYER_PRIVATE_KEYS = key;
    else Object.assign(env, { VANA_FUNDER_PRIVATE_KEY: key, VANA_BATCH_FUNDER_ADDRESS: m.contracts.batchFunder, VANA_FUNDING_AMOUNT: '0.05' });
    secrets.push(key);
  }
  return { env, secrets: [...secrets, env.VANA_MNEMONIC!] };
}

function summaryOf(out: string): RunSummary {
  const dir = /📁 (\S+)\/:/.exec(out)?.[1];
  expect(dir, out).toBeDefined();
  return JSON.parse(readFileSync(join(dir!, 'summary.json'), 'utf8')) as RunSummary;
}

/** Runs one milestone against the deployment and checks it passed remotely, with nothing local started and no secret shown. */
async function rehearse(script: string, args: string[], env: Record<string, string>, secrets: readonly string[], flows: number): Promise<RunSummary> {
  const cwd = mkdtempSync(join(base, 'cwd-'));
  const { code, out } = await runNode([script, ...args], env, cwd).exited;
  expect(code, out).toBe(0);
  const summary = summaryOf(out);
  expect(summary.environment.target).toBe('remote');
  expect(summary.counts).toMatchObject({ completed: flows, succeeded: flows });
  // Nothing local: no stack process or anvil was sampled, no manifest written.
  expect(summary.resources.map((r) => r.name)).toEqual(['harness']);
  expect(readdirSync(cwd)).toEqual([]);
  const written = [out, JSON.stringify(summary), readFileSync(join(/📁 (\S+)\/:/.exec(out)![1]!, 'run.log'), 'utf8')].join('\n');
  for (const secret of secrets) expect(written).not.toContain(secret.startsWith('0x') ? secret.slice(2) : secret);
  return summary;
}

let stateless: Deployment;
let stateful: Deployment;

beforeAll(async () => {
  [stateless, stateful] = await Promise.all([startDeployment('stateless', 'submitted'), startDeployment('stateful', 'pending')]);
}, 180_000);

afterAll(async () => {
  await Promise.all([stateless?.stop(), stateful?.stop()]);
  rmSync(base, { recursive: true, force: true });
}, 60_000);

describe.concurrent('remote rehearsal: MS-02 and MS-03 against a deployment on chain 14800 with S3 storage', () => {
  for (const relay of RELAYS) {
    for (const inference of INFERENCES) {
      it(`relay ${relay} × inference ${inference}`, async () => {
        const { env, secrets } = await remoteEnv(stateless, relay, inference);
        const all = [...secrets, ...stateless.secrets];
        const single = await rehearse(MS02, [], env, all, 1);
        expect(single.config).toMatchObject({ relay: { mode: relay }, inference: { mode: inference } });
        await rehearse(MS03, ['--concurrent', '3'], env, all, 3);
      }, 180_000);
    }
  }

  for (const inference of INFERENCES) {
    it(`a stateful relayer (pending + status_check) storing the grant file too × inference ${inference}`, async () => {
      const { env, secrets } = await remoteEnv(stateful, 'api', inference, { VANA_GRANT_STORAGE: 'relayer' });
      const all = [...secrets, ...stateful.secrets];
      await rehearse(MS02, [], env, all, 1);
      await rehearse(MS03, ['--concurrent', '3'], env, all, 3);
    }, 180_000);
  }
});
