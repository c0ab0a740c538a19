import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createWalletFile, readWalletFile } from './walletFile.ts';

const dirs: string[] = [];
async function tempPath(name = 'wallets.json'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vana-load-wallet-file-'));
  dirs.push(dir);
  return join(dir, name);
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('createWalletFile / readWalletFile', () => {
  it('writes mode 0600 (folder 0700) with the mnemonic, count, chain id and creation time, and no key', async () => {
    const path = join(await tempPath('new-folder'), 'wallets.json');
    const created = await createWalletFile({ path, count: 1000, chainId: 31337, createdAt: new Date('2026-11-23T10:00:00Z') });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(path, '..'))).mode & 0o777).toBe(0o700);
    const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['version', 'mnemonic', 'count', 'chainId', 'createdAt']);
    expect({ ...json, mnemonic: (json.mnemonic as string).split(' ').length }).toEqual({
      version: 1,
      mnemonic: 12,
      count: 1000,
      chainId: 31337,
      createdAt: '2026-11-23T10:00:00.000Z',
    });
    expect(await readWalletFile(path)).toEqual(created);
  });

  it('generates a fresh mnemonic each time', async () => {
    const [a, b] = await Promise.all([tempPath(), tempPath()]);
    const [first, second] = await Promise.all([createWalletFile({ path: a, count: 1, chainId: 1 }), createWalletFile({ path: b, count: 1, chainId: 1 })]);
    expect(first.mnemonic).not.toBe(second.mnemonic);
  });

  it('error: refuses to read a file others may read (0644), saying to chmod 600', async () => {
    const path = await tempPath();
    await createWalletFile({ path, count: 1, chainId: 31337 });
    await chmod(path, 0o644);
    await expect(readWalletFile(path)).rejects.toThrowError(
      `Wallet file ${path} has mode 0644: it holds a mnemonic, so only its owner may read it\n\nfix: chmod 600 ${path}`,
    );
    await chmod(path, 0o600);
    await expect(readWalletFile(path)).resolves.toMatchObject({ count: 1 });
  });

  it('error: refuses to replace an existing wallet file', async () => {
    const path = await tempPath();
    await createWalletFile({ path, count: 5, chainId: 31337 });
    const before = await readFile(path, 'utf8');
    await expect(createWalletFile({ path, count: 9, chainId: 31337 })).rejects.toMatchObject({
      code: 'WALLET_FILE_EXISTS',
      shortMessage: `Wallet file ${path} exists already; refusing to replace it`,
    });
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('error: names --generate when the file is missing', async () => {
    const path = await tempPath();
    await expect(readWalletFile(path)).rejects.toThrowError(`Wallet file ${path} does not exist\n\nfix: generate wallets first (--generate <n> --wallet-file ${path})`);
  });

  it('error: refuses a place no file can be written, before generating anything', async () => {
    const file = await tempPath('a-file');
    await writeFile(file, '');
    await expect(createWalletFile({ path: join(file, 'wallets.json'), count: 1, chainId: 31337 })).rejects.toMatchObject({
      name: 'ConfigError',
      message: `Wallet file (--wallet-file) ${join(file, 'wallets.json')}: its directory ${file} is a file: expected a directory this user can write to, or a path where one can be created`,
    });
    const dir = await tempPath('a-dir');
    await mkdir(dir);
    await expect(createWalletFile({ path: dir, count: 1, chainId: 31337 })).rejects.toThrowError(`Wallet file (--wallet-file) ${dir} is a directory: expected a file`);
    if (process.platform === 'linux') {
      await expect(createWalletFile({ path: '/proc/vana-load/wallets.json', count: 1, chainId: 31337 })).rejects.toMatchObject({ code: 'PATH_PSEUDO_FILE_SYSTEM' });
    }
  });

  it('error: a directory is not a wallet file', async () => {
    const dir = await tempPath('dir.json');
    await mkdir(dir, { mode: 0o700 });
    await expect(readWalletFile(dir)).rejects.toThrowError(`Wallet file ${dir} is a directory: expected the JSON file written by --generate`);
  });

  it('error: refuses a malformed file without quoting its content', async () => {
    const path = await tempPath();
    const words = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon zoo';
    await writeFile(path, JSON.stringify({ version: 1, mnemonic: words, count: 3, chainId: 31337, createdAt: '2026-11-23T10:00:00.000Z' }), { mode: 0o600 });
    await expect(readWalletFile(path)).rejects.toThrowError(`Wallet file ${path} is invalid: mnemonic is not a valid BIP-39 English mnemonic`);
    await writeFile(path, `{"mnemonic": "${words}"`);
    const error = (await readWalletFile(path).catch((err: unknown) => err)) as Error;
    expect([error.message, error.message.includes('abandon')]).toEqual([`Wallet file ${path} is not valid JSON`, false]);
  });
});
