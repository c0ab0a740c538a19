#!/usr/bin/env node
/**
 * `npx tsx src/scripts/wallet-manager.ts`: generates, funds, validates and sweeps the virtual
 * users' HD wallets (ARCHITECTURE.md 4). See `--help`.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import type { Address, LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { exitCodeFor, formatError } from '../cli/exitWithError.ts';
import { configOptions, type ConfigOption } from '../config/configOptions.ts';
import { loadConfig, type ConfigEnv, type ConfigFlags } from '../config/loadConfig.ts';
import { etherAmount, integer, url, type FieldParser } from '../config/parsers.ts';
import { configField, type ConfigKey, type VanaLoadConfig } from '../config/schema.ts';
import { ConfigError, EXIT_CODES, InfrastructureError } from '../errors.ts';
import { isStackHealthy } from '../stack/ensureStack.ts';
import { deployerAccount } from '../stack/devAccounts.ts';
import { DEFAULT_MANIFEST_PATH, readManifest } from '../stack/manifest.ts';
import { DEFAULT_FUNDING_BATCH_SIZE, fundWallets, sweepWallets, validateWallets } from '../wallets/funding.ts';
import { createHdWallets } from '../wallets/hdWallets.ts';
import { formatNative, readChainId } from '../wallets/walletChain.ts';
import { createWalletFile, readWalletFile, type WalletFile } from '../wallets/walletFile.ts';

/** anvil's default chain id, which the local stack keeps. */
const LOCAL_CHAIN_ID = 31337;

/** Config fields this command takes under their usual flags (`--max-spend`, …). */
const CONFIG_FLAG_KEYS: readonly ConfigKey[] = [
  'target.kind',
  'wallets.walletFile',
  'wallets.maxSpendWei',
  'wallets.allowMainnet',
  'chain.chainId',
  'contracts.batchFunderAddress',
];
const CONFIG_FLAGS: readonly ConfigOption[] = configOptions().filter((o) => CONFIG_FLAG_KEYS.includes(o.key));

/** The options of this command; config flags are read by attribute name (`maxSpend`, …). */
interface WalletManagerOptions {
  generate?: number;
  fund?: true;
  validate?: true;
  sweep?: true;
  /** Ether text, parsed by loadConfig as VANA_FUNDING_AMOUNT. */
  amount?: string;
  minBalance?: bigint;
  rpcUrl?: string;
  manifest: string;
  batchSize: number;
}

/** Where funds move: the chain, the funder and (to fund) the BatchFunder contract. */
interface Chain {
  rpcUrl: string;
  chainId: number;
  funder: LocalAccount | undefined;
  batchFunder: Address | undefined;
  /** Undefined = no cap (dev funds of the local chain). */
  maxSpendWei: bigint | undefined;
  allowMainnet: boolean;
  description: string;
}

export interface WalletManagerIo {
  /** Progress and results. */
  print(line: string): void;
  /** Errors and usage messages; default `print`. */
  printError?(line: string): void;
  env?: ConfigEnv;
}

function flagValue<T>(parser: FieldParser<T>) {
  return (raw: string): T => {
    const result = parser.parse(raw.trim());
    if (!result.ok) throw new InvalidArgumentError(`Expected ${parser.expected}, got "${raw}"`);
    return result.value;
  };
}

/** Checks the text like `flagValue` but keeps it, for loadConfig to parse under the config's name. */
function checkedText(parser: FieldParser<unknown>) {
  return (raw: string): string => {
    flagValue(parser)(raw);
    return raw.trim();
  };
}

const fundingAmount = configField('wallets.fundingAmountWei').spec;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/** The commander program; `run` receives the parsed options. */
function buildProgram(run: (opts: WalletManagerOptions) => Promise<void>): Command {
  const program = new Command('wallet-manager')
    .description(
      "Generate, fund, validate and sweep the virtual users' HD wallets (m/44'/60'/0'/0/i of one mnemonic in the wallet file).\n" +
        'Actions run in this order: generate, fund, validate, sweep. At least one is required.',
    )
    .option('--generate <n>', 'write a new wallet file with a fresh random mnemonic for n wallets (refuses to replace one); needs no chain', flagValue(integer(1, 1_000_000)))
    .option('--fund', "bring every wallet of the file up to --amount through the BatchFunder contract (many wallets per transaction); funding twice sends nothing")
    .option('--validate', 'check every wallet holds at least --min-balance; exit code 1 when one does not')
    .option('--sweep', "send every wallet's balance, minus gas, back to the funder; empty wallets are skipped")
    .option(
      '--amount <eth>',
      `what each wallet is funded to, in ether units (env ${fundingAmount.env}; default: ${fundingAmount.parser.format(fundingAmount.default)})`,
      checkedText(fundingAmount.parser),
    )
    .option('--min-balance <eth>', 'validate: the least a wallet must hold (default: --amount)', flagValue(etherAmount('0', '1000000')))
    .option('--rpc-url <url>', 'JSON-RPC endpoint; local target: instead of the stack manifest (then --batch-funder-address too, unless the manifest names the same chain); remote: instead of VANA_RPC_URLS', flagValue(url()))
    .option('--manifest <path>', 'local target: manifest of the running stack (npm run dev)', DEFAULT_MANIFEST_PATH)
    .option('--batch-size <n>', 'wallets per funding transaction', flagValue(integer(1, 10_000)), DEFAULT_FUNDING_BATCH_SIZE);
  for (const option of CONFIG_FLAGS) program.option(option.flags, option.help);
  program.addHelpText(
    'after',
    `
Targets:
  local (default)  The running local stack (npm run dev) is found through its manifest; its anvil dev
                   account 0 (the deployer) is the funder. --fund, --validate and --sweep need that stack
                   running: a stack started just for this command would stop, funds and all, when it exits.
                   --max-spend applies only when given as a flag (dev funds are free).
  remote           VANA_RPC_URLS, VANA_CHAIN_ID, VANA_FUNDER_PRIVATE_KEY (secret: env or .env only) and, to
                   fund, VANA_BATCH_FUNDER_ADDRESS come from the environment or .env. Funding refuses known
                   mainnets (1, 1480) without --allow-mainnet and totals above --max-spend (default 1).

The wallet file holds the mnemonic, never a key list; it is written with mode 0600 and refused when
others may read it (fix: chmod 600 <file>). The mnemonic is never printed.

Examples:
  npm run dev                                                  # in another terminal
  npx tsx src/scripts/wallet-manager.ts --generate 1000 --fund
  npx tsx src/scripts/wallet-manager.ts --validate
  npx tsx src/scripts/wallet-manager.ts --sweep

Exit codes: 0 ok, 1 validate found underfunded wallets or a fund/sweep failed, 2 bad usage or config,
3 infrastructure (no running stack, RPC unreachable).`,
  );
  program.action((opts: WalletManagerOptions) => run(opts));
  return program;
}

async function resolveChain(opts: WalletManagerOptions, config: VanaLoadConfig, maxSpendFlagGiven: boolean, needsFunder: boolean): Promise<Chain> {
  const { wallets, contracts } = config;
  if (config.target.kind === 'remote') {
    const rpcUrl = config.chain.rpcUrls[0];
    if (rpcUrl === undefined) throw new ConfigError('The remote target needs VANA_RPC_URLS (--rpc-url)');
    if (needsFunder && wallets.funderPrivateKey === undefined) {
      throw new ConfigError('Funding and sweeping on the remote target need VANA_FUNDER_PRIVATE_KEY (in the environment or .env)', {
        code: 'CONFIG_MISSING',
      });
    }
    return {
      rpcUrl,
      chainId: config.chain.chainId,
      funder: wallets.funderPrivateKey === undefined ? undefined : privateKeyToAccount(wallets.funderPrivateKey),
      batchFunder: contracts.batchFunderAddress,
      maxSpendWei: wallets.maxSpendWei,
      allowMainnet: wallets.allowMainnet,
      description: `remote chain ${config.chain.chainId} at ${rpcUrl}`,
    };
  }
  const manifest = await readManifest(opts.manifest).catch(() => undefined);
  const maxSpendWei = maxSpendFlagGiven ? wallets.maxSpendWei : undefined;
  if (opts.rpcUrl !== undefined) {
    const chainId = await readChainId(opts.rpcUrl);
    const sameChain = manifest !== undefined && manifest.rpcUrl === opts.rpcUrl;
    return {
      rpcUrl: opts.rpcUrl,
      chainId,
      funder: deployerAccount(),
      batchFunder: contracts.batchFunderAddress ?? (sameChain ? manifest.contracts.batchFunder : undefined),
      maxSpendWei,
      allowMainnet: wallets.allowMainnet,
      description: `local chain ${chainId} at ${opts.rpcUrl}`,
    };
  }
  if (manifest === undefined || !(await isStackHealthy(manifest))) {
    throw new InfrastructureError(`No running local stack (${manifest === undefined ? `no manifest at ${opts.manifest}` : `the stack of ${opts.manifest} does not answer`})`, {
      code: 'STACK_NOT_RUNNING',
      metaMessages: [
        'fix: start the stack first in another terminal: npm run dev',
        'A stack started just for this command would stop when it exits, and the funded chain with it.',
      ],
    });
  }
  return {
    rpcUrl: manifest.rpcUrl,
    chainId: manifest.chainId,
    funder: deployerAccount(),
    batchFunder: contracts.batchFunderAddress ?? manifest.contracts.batchFunder,
    maxSpendWei,
    allowMainnet: wallets.allowMainnet,
    description: `local stack chain ${manifest.chainId} at ${manifest.rpcUrl} (manifest ${opts.manifest})`,
  };
}

async function generateChainId(opts: WalletManagerOptions, config: VanaLoadConfig): Promise<number> {
  if (config.target.kind === 'remote') return config.chain.chainId;
  const manifest = await readManifest(opts.manifest).catch(() => undefined);
  return manifest?.chainId ?? LOCAL_CHAIN_ID;
}

/**
 * Runs the wallet manager with `argv` (without node and the script) and returns its exit code.
 * Errors are printed as one message (no secret is ever part of one) and mapped to exit codes.
 *
 * @example
 * process.exitCode = await runWalletManager(['--generate', '50', '--fund'], { print: (l) => process.stdout.write(`${l}\n`) });
 */
export async function runWalletManager(argv: readonly string[], { print, printError = print, env = process.env }: WalletManagerIo): Promise<number> {
  let exitCode: number = EXIT_CODES.ok;
  const program = buildProgram(async (opts) => {
    const configFlags = Object.fromEntries(CONFIG_FLAGS.map(({ attribute }) => [attribute, program.getOptionValue(attribute) as string | boolean | undefined]));
    exitCode = await manageWallets(opts, configFlags, { print, env });
  });
  program.exitOverride().configureOutput({
    writeOut: (text) => print(text.trimEnd()),
    writeErr: (text) => printError(text.trimEnd()),
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    const commanderExit = (err as { exitCode?: unknown }).exitCode;
    if (typeof commanderExit === 'number' && (err as { code?: unknown }).code?.toString().startsWith('commander.')) {
      return commanderExit === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    }
    printError(formatError(err));
    return exitCodeFor(err);
  }
}

async function manageWallets(opts: WalletManagerOptions, configFlags: ConfigFlags, { print, env }: Pick<Required<WalletManagerIo>, 'print' | 'env'>): Promise<number> {
  if (opts.generate === undefined && !opts.fund && !opts.validate && !opts.sweep) {
    throw new ConfigError('Nothing to do: give --generate <n>, --fund, --validate and/or --sweep (see --help)', { code: 'USAGE' });
  }
  const config = loadConfig({
    env,
    envFile: { path: '.env', optional: true },
    flags: { ...configFlags, fundingAmount: opts.amount, rpcUrls: opts.rpcUrl },
  });
  const { walletFile: walletPath, fundingAmountWei: amountWei } = config.wallets;
  const needsChain = Boolean(opts.fund || opts.validate || opts.sweep);
  // Checked before the wallet file is written: a missing stack must not leave a half-done setup.
  const chain = needsChain ? await resolveChain(opts, config, configFlags.maxSpend !== undefined, Boolean(opts.fund || opts.sweep)) : undefined;
  if (chain) print(`target: ${chain.description}`);

  let file: WalletFile;
  if (opts.generate !== undefined) {
    file = await createWalletFile({ path: walletPath, count: opts.generate, chainId: chain?.chainId ?? (await generateChainId(opts, config)) });
    const first = createHdWallets(file.mnemonic).deriveAddress(0);
    print(`generated ${file.count} wallets for chain ${file.chainId} in ${walletPath} (mode 0600; the mnemonic is not printed); wallet 0 is ${first}`);
  } else {
    file = await readWalletFile(walletPath);
  }
  if (!chain) return EXIT_CODES.ok;
  if (file.chainId !== chain.chainId) {
    throw new ConfigError(`Wallet file ${walletPath} was generated for chain ${file.chainId}, but the target is chain ${chain.chainId}`, {
      code: 'WALLET_FILE_CHAIN_MISMATCH',
      metaMessages: ['fix: pass the --wallet-file of this chain, or generate one for it (--generate <n> --wallet-file <new path>)'],
    });
  }
  const wallets = createHdWallets(file.mnemonic);
  const native = (wei: bigint): string => formatNative(wei, chain.chainId);
  const { rpcUrl, chainId, allowMainnet } = chain;
  let exitCode: number = EXIT_CODES.ok;

  if (opts.fund) {
    const { funder, batchFunder } = chain;
    if (funder === undefined) throw new ConfigError('Funding needs a funder key (VANA_FUNDER_PRIVATE_KEY)', { code: 'CONFIG_MISSING' });
    if (batchFunder === undefined) {
      throw new ConfigError('Funding needs the BatchFunder contract: set VANA_BATCH_FUNDER_ADDRESS (--batch-funder-address)', { code: 'CONFIG_MISSING' });
    }
    print(`funding ${file.count} wallets to ${native(amountWei)} each from ${funder.address} through BatchFunder ${batchFunder}, ${opts.batchSize} per tx`);
    const funded = await fundWallets({
      rpcUrl,
      chainId,
      funder,
      batchFunder,
      wallets,
      count: file.count,
      amountWei,
      batchSize: opts.batchSize,
      allowMainnet,
      topUp: true,
      ...(chain.maxSpendWei === undefined ? {} : { maxSpendWei: chain.maxSpendWei }),
      onProgress: ({ funded, total, txs, elapsedMs }) => print(`funded ${funded}/${total} (${txs} tx) ${seconds(elapsedMs)}`),
    });
    const gasUsed = funded.txs.map((tx) => tx.gasUsed);
    print(
      `fund done in ${seconds(funded.elapsedMs)}: ${funded.funded} funded, ${funded.skipped} already at ${native(amountWei)}; ` +
        `${funded.txs.length} tx, gas per tx ${gasUsed.length ? `${gasUsed.reduce((a, b) => (a < b ? a : b))}-${gasUsed.reduce((a, b) => (a > b ? a : b))}` : '-'}; ` +
        `sent ${native(funded.valueWei)}, gas paid ${native(funded.feesWei)}`,
    );
  }

  if (opts.validate) {
    const minBalanceWei = opts.minBalance ?? amountWei;
    const result = await validateWallets({ rpcUrl, chainId, wallets, count: file.count, minBalanceWei });
    print(
      `validate done in ${seconds(result.elapsedMs)}: ${result.funded}/${result.checked} wallets hold at least ${native(minBalanceWei)}, ` +
        `${result.underfunded.length} below; total ${native(result.totalWei)}`,
    );
    for (const { index, address, balanceWei } of result.underfunded.slice(0, 10)) print(`  wallet ${index} ${address}: ${native(balanceWei)}`);
    if (result.underfunded.length > 10) print(`  … and ${result.underfunded.length - 10} more`);
    if (result.underfunded.length > 0) exitCode = EXIT_CODES.thresholdFailed;
  }

  if (opts.sweep) {
    const { funder } = chain;
    if (funder === undefined) throw new ConfigError('Sweeping needs the funder key (VANA_FUNDER_PRIVATE_KEY): funds go back to it', { code: 'CONFIG_MISSING' });
    print(`sweeping ${file.count} wallets back to ${funder.address}`);
    const step = Math.max(1, Math.ceil(file.count / 10));
    const result = await sweepWallets({
      rpcUrl,
      chainId,
      wallets,
      count: file.count,
      to: funder.address,
      allowMainnet,
      onProgress: ({ done, total, swept, skipped, elapsedMs }) => {
        if (done % step === 0 || done === total) print(`swept ${swept}/${total} (${skipped} empty) ${seconds(elapsedMs)}`);
      },
    });
    print(
      `sweep done in ${seconds(result.elapsedMs)}: ${result.swept} swept, ${result.skipped} empty, ${result.failed.length} failed; ` +
        `returned ${native(result.returnedWei)}, gas paid ${native(result.feesWei)}`,
    );
    for (const { index, address, message } of result.failed.slice(0, 10)) print(`  wallet ${index} ${address}: ${message}`);
    if (result.failed.length > 0) exitCode = EXIT_CODES.thresholdFailed;
  }
  return exitCode;
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  process.exitCode = await runWalletManager(process.argv.slice(2), {
    print: (line) => process.stdout.write(`${line}\n`),
    printError: (line) => process.stderr.write(`${line}\n`),
  });
}
