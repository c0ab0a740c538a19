#!/usr/bin/env node
/**
 * `npx tsx src/cli/walletManager.ts` (`npm run wallets --`): generates, funds, validates and
 * sweeps the virtual users' HD wallets (ARCHITECTURE.md 4). See `--help`.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import type { Address, LocalAccount } from 'viem';
import { exitCodeFor, formatError } from './errorOutput.ts';
import { configOptions, type ConfigOption } from '../config/configOptions.ts';
import { loadConfig, type ConfigEnv, type ConfigFlags } from '../config/loadConfig.ts';
import { etherAmount, integer, url, type FieldParser } from '../config/parsers.ts';
import { configField, type ConfigKey } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { EXIT_CODES } from '../exitCodes.ts';
import { DEFAULT_MANIFEST_PATH } from '../stack/manifest.ts';
import { DEFAULT_FUNDING_BATCH_SIZE, fundWallets, validateWallets } from '../wallets/funding.ts';
import { sweepWallets } from '../wallets/sweepWallets.ts';
import { createHdWallets, type HdWallets } from '../wallets/hdWallets.ts';
import { formatNative } from '../wallets/walletChain.ts';
import { createWalletFile, readWalletFile, type WalletFile } from '../wallets/walletFile.ts';
import { chainIdForNewWallets, resolveWalletTarget, type WalletTarget } from './walletTarget.ts';

/** Config fields this command takes under their usual flags (`--max-spend`, …). */
const CONFIG_FLAG_KEYS: readonly ConfigKey[] = [
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
    .showHelpAfterError('(run with --help for usage)')
    .option('--generate <n>', 'write a new wallet file with a fresh random mnemonic for n wallets (refuses to replace one)', flagValue(integer(1, 1_000_000)))
    .option('--fund', 'bring every wallet of the file up to --amount through the BatchFunder contract (many wallets per transaction); funding twice sends nothing')
    .option('--validate', 'check every wallet holds at least --min-balance; exit code 1 when one does not')
    .option('--sweep', "send every wallet's balance, minus gas, back to the funder; empty wallets are skipped")
    .option(
      '--amount <eth>',
      `what each wallet is funded to, in ether units (env ${fundingAmount.env}; default: ${fundingAmount.parser.format(fundingAmount.default)})`,
      checkedText(fundingAmount.parser),
    )
    .option('--min-balance <eth>', 'validate: the least a wallet must hold (default: --amount)', flagValue(etherAmount('0', '1000000')))
    .option('--rpc-url <url>', 'JSON-RPC endpoint of the chain, instead of the local stack manifest (default: VANA_RPC_URLS when VANA_TARGET=remote)', flagValue(url()))
    .option('--manifest <path>', 'manifest of the running local stack (npm run dev)', DEFAULT_MANIFEST_PATH)
    .option('--batch-size <n>', 'wallets per funding transaction', flagValue(integer(1, 10_000)), DEFAULT_FUNDING_BATCH_SIZE);
  for (const option of CONFIG_FLAGS) program.option(option.flags, option.help);
  program.addHelpText(
    'after',
    `
Targets:
  local stack (default)  The running stack of \`npm run dev\` is found through its manifest; its anvil dev
                         account 0 is the funder. --fund, --validate and --sweep need that stack running
                         (exit code 3 otherwise): a stack started just for this command would stop, funds
                         and all, when it exits. --max-spend applies only when given (dev funds are free).
  --rpc-url <url>        Any chain. The funder is VANA_FUNDER_PRIVATE_KEY (environment or .env, never a
                         flag); without one, a local anvil chain (id 31337) is funded by its dev account 0.
                         The BatchFunder is --batch-funder-address, or the stack's when the URL is its RPC.
                         --max-spend (default 1) caps every funder but the dev account. With
                         VANA_TARGET=remote, VANA_RPC_URLS and VANA_CHAIN_ID are the defaults.
  Known mainnets (1, 1480) are refused for --fund and --sweep unless --allow-mainnet.

The wallet file holds the mnemonic, never a key list; it is written with mode 0600 and refused when
others may read it (fix: chmod 600 <file>). Neither the mnemonic nor any key is ever printed.

Examples:
  npm run dev                                                  # in another terminal
  npx tsx src/cli/walletManager.ts --generate 1000 --fund
  npx tsx src/cli/walletManager.ts --validate
  npx tsx src/cli/walletManager.ts --sweep
  VANA_FUNDER_PRIVATE_KEY=0x… npx tsx src/cli/walletManager.ts --rpc-url https://rpc.moksha.vana.org \\
    --batch-funder-address 0x… --generate 100 --fund --amount 0.001 --max-spend 0.2

Exit codes: 0 ok, 1 validate found underfunded wallets or a fund/sweep failed, 2 bad usage or config
(the flag is named), 3 infrastructure (no running stack, RPC unreachable).`,
  );
  program.action((opts: WalletManagerOptions) => run(opts));
  return program;
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
  if (opts.fund && amountWei === 0n) {
    throw new ConfigError(`${fundingAmount.env} (--amount) must be more than 0 to fund, got 0`, { code: 'CONFIG_INVALID' });
  }
  const given = { maxSpend: configFlags.maxSpend !== undefined, chainId: configFlags.chainId !== undefined };
  const targetParams = { config, rpcUrl: opts.rpcUrl, manifestPath: opts.manifest, given };
  // The chain is checked before the wallet file is written: a missing stack must not leave a half-done setup.
  const target = opts.fund || opts.validate || opts.sweep ? await resolveWalletTarget({ ...targetParams, sends: Boolean(opts.fund || opts.sweep) }) : undefined;
  if (target) print(`target: ${target.description}`);
  const funding = target && opts.fund ? checkCanFund(target, opts.generate, amountWei) : undefined;

  let file: WalletFile;
  if (opts.generate !== undefined) {
    file = await createWalletFile({ path: walletPath, count: opts.generate, chainId: target?.chainId ?? (await chainIdForNewWallets(targetParams)) });
    const first = createHdWallets(file.mnemonic).deriveAddress(0);
    print(`generated ${file.count} wallets for chain ${file.chainId} in ${walletPath} (mode 0600; the mnemonic is not printed); wallet 0 is ${first}`);
  } else {
    file = await readWalletFile(walletPath);
  }
  if (!target) return EXIT_CODES.ok;
  if (file.chainId !== target.chainId) {
    throw new ConfigError(`Wallet file ${walletPath} was generated for chain ${file.chainId}, but the target is chain ${target.chainId}`, {
      code: 'WALLET_FILE_CHAIN_MISMATCH',
      metaMessages: ['fix: pass the --wallet-file of this chain, or generate one for it (--generate <n> --wallet-file <new path>)'],
    });
  }
  const ctx: ActionContext = { target, file, wallets: createHdWallets(file.mnemonic), native: (wei) => formatNative(wei, target.chainId), print };
  let exitCode: number = EXIT_CODES.ok;
  if (funding) {
    try {
      await fund(ctx, funding, amountWei, opts.batchSize);
    } catch (err) {
      if (opts.generate !== undefined) print(`note: ${walletPath} was written; fund its wallets with --fund (without --generate)`);
      throw err;
    }
  }
  if (opts.validate && !(await validate(ctx, opts.minBalance ?? amountWei))) exitCode = EXIT_CODES.thresholdFailed;
  if (opts.sweep && !(await sweep(ctx))) exitCode = EXIT_CODES.thresholdFailed;
  return exitCode;
}

interface ActionContext {
  target: WalletTarget;
  file: WalletFile;
  wallets: HdWallets;
  native: (wei: bigint) => string;
  print: (line: string) => void;
}

interface FundingAccounts {
  funder: LocalAccount;
  batchFunder: Address;
}

/**
 * Refusals known before the wallet file is written: no funder, no BatchFunder, or a value alone
 * above --max-spend (fundWallets checks value plus gas again before it sends anything).
 */
function checkCanFund(target: WalletTarget, generate: number | undefined, amountWei: bigint): FundingAccounts {
  if (target.funder === undefined) {
    throw new ConfigError(`Funding chain ${target.chainId} needs a funder key: set VANA_FUNDER_PRIVATE_KEY in the environment or .env`, { code: 'CONFIG_MISSING' });
  }
  if (target.batchFunder === undefined) {
    throw new ConfigError(`Funding chain ${target.chainId} needs its BatchFunder contract: pass --batch-funder-address (VANA_BATCH_FUNDER_ADDRESS)`, { code: 'CONFIG_MISSING' });
  }
  const valueWei = generate === undefined ? undefined : amountWei * BigInt(generate);
  if (target.maxSpendWei !== undefined && valueWei !== undefined && valueWei > target.maxSpendWei) {
    const native = (wei: bigint): string => formatNative(wei, target.chainId);
    throw new ConfigError(`Funding ${generate} wallets × ${native(amountWei)} = ${native(valueWei)} plus gas exceeds --max-spend ${native(target.maxSpendWei)}; nothing was written or sent`, {
      code: 'MAX_SPEND_EXCEEDED',
      metaMessages: ['fix: raise --max-spend (VANA_MAX_SPEND), or generate fewer wallets or pass a smaller --amount'],
    });
  }
  return { funder: target.funder, batchFunder: target.batchFunder };
}

async function fund({ target, file, wallets, native, print }: ActionContext, { funder, batchFunder }: FundingAccounts, amountWei: bigint, batchSize: number): Promise<void> {
  const { rpcUrl, chainId, funderSource, maxSpendWei, allowMainnet } = target;
  const cap = maxSpendWei === undefined ? 'no --max-spend cap (local dev funds)' : `--max-spend ${native(maxSpendWei)}`;
  print(`funding ${file.count} wallets to ${native(amountWei)} each from ${funder.address} (${funderSource}) through BatchFunder ${batchFunder}, ${batchSize} per tx; ${cap}`);
  const funded = await fundWallets({
    rpcUrl,
    chainId,
    funder,
    batchFunder,
    wallets,
    count: file.count,
    amountWei,
    batchSize,
    allowMainnet,
    topUp: true,
    ...(maxSpendWei === undefined ? {} : { maxSpendWei }),
    onProgress: ({ funded, total, txs, elapsedMs }) => print(`funded ${funded}/${total} (${txs} tx) ${seconds(elapsedMs)}`),
  });
  const gasUsed = funded.txs.map((tx) => tx.gasUsed);
  const [least, most] = [gasUsed.reduce((a, b) => (a < b ? a : b), gasUsed[0] ?? 0n), gasUsed.reduce((a, b) => (a > b ? a : b), 0n)];
  const gasRange = gasUsed.length === 0 ? '-' : least === most ? `${least}` : `${least}-${most}`;
  print(
    `fund done in ${seconds(funded.elapsedMs)}: ${funded.funded} funded, ${funded.skipped} already at ${native(amountWei)}; ` +
      `${funded.txs.length} tx, gas per tx ${gasRange}; sent ${native(funded.valueWei)}, gas paid ${native(funded.feesWei)}`,
  );
}

/** Prints the balances' verdict; false when a wallet holds less than `minBalanceWei`. */
async function validate({ target, file, wallets, native, print }: ActionContext, minBalanceWei: bigint): Promise<boolean> {
  const result = await validateWallets({ rpcUrl: target.rpcUrl, chainId: target.chainId, wallets, count: file.count, minBalanceWei });
  print(
    `validate done in ${seconds(result.elapsedMs)}: ${result.funded}/${result.checked} wallets hold at least ${native(minBalanceWei)}, ` +
      `${result.underfunded.length} below; total ${native(result.totalWei)}`,
  );
  for (const { index, address, balanceWei } of result.underfunded.slice(0, 10)) print(`  wallet ${index} ${address}: ${native(balanceWei)}`);
  if (result.underfunded.length > 10) print(`  … and ${result.underfunded.length - 10} more`);
  return result.underfunded.length === 0;
}

/** Sweeps every wallet back to the funder; false when a wallet's sweep failed. */
async function sweep({ target, file, wallets, native, print }: ActionContext): Promise<boolean> {
  const { funder } = target;
  if (funder === undefined) {
    throw new ConfigError(`Sweeping chain ${target.chainId} needs the funder key the funds go back to: set VANA_FUNDER_PRIVATE_KEY in the environment or .env`, {
      code: 'CONFIG_MISSING',
    });
  }
  print(`sweeping ${file.count} wallets back to ${funder.address}`);
  const step = Math.max(1, Math.ceil(file.count / 10));
  const result = await sweepWallets({
    rpcUrl: target.rpcUrl,
    chainId: target.chainId,
    wallets,
    count: file.count,
    to: funder.address,
    allowMainnet: target.allowMainnet,
    onProgress: ({ done, total, swept, skipped, elapsedMs }) => {
      if (done % step === 0 || done === total) print(`swept ${swept}/${total} (${skipped} empty) ${seconds(elapsedMs)}`);
    },
  });
  print(
    `sweep done in ${seconds(result.elapsedMs)}: ${result.swept} swept, ${result.skipped} empty, ${result.failed.length} failed; ` +
      `returned ${native(result.returnedWei)}, gas paid ${native(result.feesWei)}`,
  );
  for (const { index, address, message } of result.failed.slice(0, 10)) print(`  wallet ${index} ${address}: ${message}`);
  return result.failed.length === 0;
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  process.exitCode = await runWalletManager(process.argv.slice(2), {
    print: (line) => process.stdout.write(`${line}\n`),
    printError: (line) => process.stderr.write(`${line}\n`),
  });
}
