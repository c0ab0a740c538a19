/**
 * MS-01 — Core components. Each check is small and real: it runs the component, never a mock.
 */
import { spawn } from 'node:child_process';
import { InvalidArgumentError, Option } from 'commander';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { loadMilestoneConfig, milestoneProgram } from '../cli/milestoneCli.ts';
import { openFlowEnvironment, type FlowEnvironment } from '../run/flowEnvironment.ts';
import { createLogger } from '../logger.ts';
import { dataPortabilityPermissionsAbi } from '../protocol/abis.ts';
import { eciesDecrypt, eciesEncrypt, publicKeyFromPrivateKey } from '../protocol/ecies.ts';
import { deriveEncryptionKey } from '../protocol/encryptionKey.ts';
import { decryptWithPassword, encryptWithPassword } from '../protocol/openpgp.ts';
import { SERVER_FILES_AND_PERMISSION_TYPEHASH } from '../protocol/eip712.ts';
import type { VanaLoadConfig } from '../config/schema.ts';

interface Check {
  name: string;
  run(): Promise<string>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function typecheck(): Promise<string> {
  return new Promise((resolve, reject) => {
    const tsc = spawn(process.execPath, [fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url)), '--noEmit', '-p', 'tsconfig.json', '--incremental', '--tsBuildInfoFile', '.vana-load/tsbuildinfo'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    tsc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    tsc.stderr.on('data', (c: Buffer) => (out += c.toString()));
    tsc.on('error', reject);
    tsc.on('exit', (code) => {
      if (code === 0) resolve('tsc --noEmit: no errors');
      else {
        const errors = out.split('\n').filter((l) => l.includes('error TS'));
        reject(new Error(`${errors.length} type error(s); first: ${errors[0] ?? out.slice(0, 200)}`));
      }
    });
  });
}

/**
 * MS-01 has no thresholds: its verdict is every check passing. `--threshold` is refused rather than
 * accepted and ignored, so a user never believes a limit was applied.
 */
function refuseThreshold(): never {
  throw new InvalidArgumentError('MS-01 has no thresholds: its verdict is every check passing (--threshold applies to MS-02 to MS-05)');
}

export async function runCoreComponentsMilestone(argv: readonly string[]): Promise<number> {
  const program = milestoneProgram('test-milestone1', 'MS-01: core components validation (seconds)', (c) =>
    c
      .option('--skip-typecheck', 'skip the build-system check (tsc), the slowest one')
      .addOption(new Option('--threshold <expr>').hideHelp().argParser(refuseThreshold)),
  );
  program.parse(argv as string[]);
  const opts = program.opts<{ skipTypecheck?: boolean }>();
  // Flags, .env and environment are checked before any check runs: a bad value exits 2 at once.
  const config: Readonly<VanaLoadConfig> = loadMilestoneConfig(program);
  const logger = createLogger({ level: 'warn' });
  let env: FlowEnvironment | undefined;

  const checks: Check[] = [
    {
      name: 'Configuration',
      async run() {
        return `target ${config.target.kind}, relay ${config.relay.mode} · inference ${config.inference.mode}, model ${config.load.model}, ${Object.keys(config).length} groups validated`;
      },
    },
    {
      name: 'Protocol crypto',
      async run() {
        const user = privateKeyToAccount(generatePrivateKey());
        const key = await deriveEncryptionKey(user);
        const plaintext = randomBytes(1024);
        const decrypted = await decryptWithPassword(await encryptWithPassword(plaintext, key), key);
        if (!Buffer.from(decrypted).equals(plaintext)) throw new Error('OpenPGP round trip changed the bytes');
        const serverKey = generatePrivateKey();
        const unwrapped = new TextDecoder().decode(eciesDecrypt(serverKey, eciesEncrypt(publicKeyFromPrivateKey(serverKey), key)));
        if (unwrapped !== key) throw new Error('ECIES round trip changed the key');
        return `OpenPGP + ECIES round trips ok (sha256 ${createHash('sha256').update(plaintext).digest('hex').slice(0, 12)}…)`;
      },
    },
    {
      name: 'Contracts',
      async run() {
        env = await openFlowEnvironment({ config, logger });
        const typehash = await env.publicClient.readContract({
          address: env.client.contracts.permissions,
          abi: dataPortabilityPermissionsAbi,
          functionName: 'SERVER_FILES_AND_PERMISSION_TYPEHASH',
        });
        if (typehash !== SERVER_FILES_AND_PERMISSION_TYPEHASH) throw new Error(`contract typehash ${typehash} differs from ours`);
        const how = env.stack ? (env.stack.owned ? 'stack spawned' : 'stack attached') : 'remote';
        return `chain ${env.chainId} (${how}); Permissions ${env.client.contracts.permissions}, registry/servers/grantees found, typehash matches`;
      },
    },
    {
      name: 'API Server',
      async run() {
        if (!env) throw new Error('needs the contracts check');
        const response = await fetch(`${env.apiUrl}/health`, { signal: AbortSignal.timeout(5000) });
        if (!response.ok) throw new Error(`/health answered ${response.status}`);
        const identity = await fetch(`${env.personalServerUrl}/identity?address=${env.wallets.account(0).address}`, { signal: AbortSignal.timeout(5000) });
        if (!identity.ok) throw new Error(`personal server /identity answered ${identity.status}`);
        return `${env.apiUrl}/health 200; personal server identity 200`;
      },
    },
    {
      name: 'Load Test Client',
      async run() {
        if (!env) throw new Error('needs the contracts check');
        const c = env.client.contracts;
        return `VanaLoadTestClient ready (relay ${env.client.relayMode}); grantee ${c.granteeAddress}`;
      },
    },
  ];
  // tsc is the slowest check: start it now in its own process, report it last.
  const typecheckRun = opts.skipTypecheck ? undefined : typecheck();
  typecheckRun?.catch(() => {});
  if (typecheckRun) checks.push({ name: 'Build System', run: () => typecheckRun });

  console.log('🚀 MS-01: Core Components Validation');
  console.log('='.repeat(50));
  const started = performance.now();
  let passed = 0;
  try {
    for (const check of checks) {
      const t0 = performance.now();
      try {
        const detail = await check.run();
        passed += 1;
        console.log(`✅ ${check.name.padEnd(18)} ${detail} (${Math.round(performance.now() - t0)} ms)`);
      } catch (err) {
        console.log(`❌ ${check.name.padEnd(18)} ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      }
    }
  } finally {
    await env?.close();
  }
  const pct = Math.round((passed / checks.length) * 100);
  console.log('-'.repeat(50));
  console.log(`📊 Results: ${passed}/${checks.length} (${pct}%) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(`VERDICT: ${passed === checks.length ? 'PASS ✅' : 'FAIL ❌'}`);
  return passed === checks.length ? 0 : 1;
}
