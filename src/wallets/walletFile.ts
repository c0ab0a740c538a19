/**
 * The wallet file: the mnemonic the virtual users are derived from, how many there are, and the
 * chain they were made for. Never a list of keys: wallets are derived from the mnemonic on demand
 * (hdWallets.ts). The file is a secret: written with mode 0600, refused when others may read it.
 */
import { mkdir, open, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateMnemonic, english } from 'viem/accounts';
import { z } from 'zod';
import { mnemonic as mnemonicParser } from '../config/parsers.ts';
import { ConfigError } from '../errors.ts';
import { checkWritableFile } from '../util/checkPath.ts';

/** What the wallet file holds. `mnemonic` is a secret: the logger redacts the field by name. */
export interface WalletFile {
  readonly version: 1;
  readonly mnemonic: string;
  /** Wallets `0..count-1` are the ones funded, validated and swept. */
  readonly count: number;
  /** Chain the wallets were generated for; funding elsewhere is refused. */
  readonly chainId: number;
  /** ISO 8601 time of generation. */
  readonly createdAt: string;
}

export interface CreateWalletFileParameters {
  path: string;
  count: number;
  chainId: number;
  /** Default: now. */
  createdAt?: Date;
}

// Error messages of this schema never contain a value: zod names the type it got, not the text.
const walletFileSchema = z.object({
  version: z.literal(1),
  mnemonic: z.string().refine((words) => mnemonicParser().parse(words).ok, 'is not a valid BIP-39 English mnemonic'),
  count: z.number().int().min(0),
  chainId: z.number().int().positive(),
  createdAt: z.iso.datetime(),
});

const OWNER_ONLY = 0o600;

/**
 * Generates a fresh random 12-word mnemonic and writes a new wallet file with mode 0600 (its
 * folder, when created, 0700). Refuses to replace an existing file: that would lose the only copy
 * of a mnemonic whose wallets may still hold funds.
 *
 * @example
 * const file = await createWalletFile({ path: 'wallets/wallets.json', count: 1000, chainId: 31337 });
 */
export async function createWalletFile({ path, count, chainId, createdAt = new Date() }: CreateWalletFileParameters): Promise<WalletFile> {
  if (!Number.isSafeInteger(count) || count < 1) throw new ConfigError(`Expected a wallet count >= 1, got ${count}`);
  if (!Number.isSafeInteger(chainId) || chainId < 1) throw new ConfigError(`Expected a positive chain id, got ${chainId}`);
  // A folder that is a file, unwritable or on /proc fails here, with one line, before any mkdir.
  checkWritableFile(path, 'Wallet file (--wallet-file)');
  const file: WalletFile = { version: 1, mnemonic: generateMnemonic(english), count, chainId, createdAt: createdAt.toISOString() };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    await writeFile(path, `${JSON.stringify(file, null, 2)}\n`, { flag: 'wx', mode: OWNER_ONLY });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw new ConfigError(`Wallet file ${path} exists already; refusing to replace it`, {
      code: 'WALLET_FILE_EXISTS',
      metaMessages: [
        'It holds the only copy of the mnemonic of its wallets, which may still hold funds.',
        `fix: sweep them (--sweep --wallet-file ${path}) and delete the file, or pass another --wallet-file`,
      ],
      cause: err,
    });
  }
  return Object.freeze(file);
}

/**
 * Reads and checks a wallet file. Refuses one that group or others may access (fix: `chmod 600`),
 * a missing one and a malformed one, with a `ConfigError` that never quotes the file's content.
 *
 * @example
 * const { mnemonic, count } = await readWalletFile('wallets/wallets.json');
 */
export async function readWalletFile(path: string): Promise<WalletFile> {
  let text: string;
  try {
    const handle = await open(path, 'r');
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) {
        throw new ConfigError(`Wallet file ${path} is ${stats.isDirectory() ? 'a directory' : 'not a regular file'}: expected the JSON file written by --generate`, {
          code: 'WALLET_FILE_INVALID',
        });
      }
      const { mode } = stats;
      // Windows has no POSIX modes to check (stat reports 0666 for every writable file).
      if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
        throw new ConfigError(`Wallet file ${path} has mode 0${(mode & 0o777).toString(8)}: it holds a mnemonic, so only its owner may read it`, {
          code: 'WALLET_FILE_PERMISSIONS',
          metaMessages: [`fix: chmod 600 ${path}`],
        });
      }
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') {
      throw new ConfigError(`Wallet file ${path} cannot be read (${code ?? (err as Error).message}): expected a file this user can read`, { code: 'WALLET_FILE_UNREADABLE', cause: err });
    }
    throw new ConfigError(`Wallet file ${path} does not exist`, {
      code: 'WALLET_FILE_MISSING',
      metaMessages: [`fix: generate wallets first (--generate <n> --wallet-file ${path})`],
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message quotes the text around the error, which may be mnemonic words.
    throw new ConfigError(`Wallet file ${path} is not valid JSON`, { code: 'WALLET_FILE_INVALID' });
  }
  const result = walletFileSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`Wallet file ${path} is invalid: ${issue?.path.join('.') || '(root)'} ${issue?.message ?? ''}`.trimEnd(), {
      code: 'WALLET_FILE_INVALID',
    });
  }
  return Object.freeze(result.data);
}
