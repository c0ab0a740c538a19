import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { TSX_LOADER_URL } from './tsxLoader.ts';
import { checkReadableDir, checkReadableFile, checkWritableDir, checkWritableFile } from './checkPath.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const base = mkdtempSync(join(tmpdir(), 'vana-load-paths-'));
chmodSync(base, 0o755);
afterAll(() => rmSync(base, { recursive: true, force: true }));
const file = join(base, 'a-file');
writeFileSync(file, 'x');

/** The error a call throws, for exact message checks. */
function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a throw');
}

/**
 * Runs `checkWritableDir(path)` in a process of an unprivileged user (root may write anywhere, so
 * permission bits are only checked for others): uid 65534 when the tests run as root.
 */
async function checkAsUnprivileged(path: string): Promise<string> {
  const script = `
    import { checkWritableDir } from './src/util/checkPath.ts';
    try { checkWritableDir(${JSON.stringify(path)}, 'Results directory'); console.log('ok'); }
    catch (err) { console.log(err.code + ': ' + err.message); }
  `;
  const asRoot = process.getuid?.() === 0;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', TSX_LOADER_URL, '--input-type=module', '-e', script], {
    cwd: ROOT,
    ...(asRoot ? { uid: 65534, gid: 65534, env: { ...process.env, HOME: base } } : {}),
  });
  return stdout.trim();
}

describe('checkWritableDir', () => {
  it('accepts an existing writable directory and a path to be created under one', () => {
    expect(() => checkWritableDir(base, 'Results directory')).not.toThrow();
    expect(() => checkWritableDir(join(base, 'new', 'deeper'), 'Results directory')).not.toThrow();
  });

  it('error: refuses a file, and a path under a file, naming it', () => {
    expect(thrown(() => checkWritableDir(file, 'Results directory (--results-dir)'))).toMatchObject({
      code: 'PATH_NOT_A_DIRECTORY',
      message: `Results directory (--results-dir) ${file} is a file: expected a directory this user can write to, or a path where one can be created`,
    });
    expect(thrown(() => checkWritableDir(join(file, 'sub'), 'Results directory')).message).toBe(
      `Results directory ${join(file, 'sub')} is under a file (${file}): expected a directory this user can write to, or a path where one can be created`,
    );
  });

  it.runIf(process.platform === 'linux')('error: refuses /proc and /sys at once (a recursive mkdir under /proc never returns)', () => {
    expect(thrown(() => checkWritableDir('/proc/vana-load/results', 'Results directory')).message).toBe(
      'Results directory /proc/vana-load/results is on the proc pseudo file system: expected a directory on a real file system',
    );
    expect(thrown(() => checkWritableDir('/sys/results', 'Results directory')).code).toBe('PATH_PSEUDO_FILE_SYSTEM');
  });

  it.runIf(process.platform !== 'win32')('error: refuses a directory the user may not write to', async () => {
    const locked = join(base, 'locked');
    mkdirSync(locked, { mode: 0o555 });
    chmodSync(locked, 0o555);
    expect(await checkAsUnprivileged(join(locked, 'results'))).toBe(
      `PATH_NOT_WRITABLE: Results directory ${join(locked, 'results')} is not writable (permission denied at ${locked}): expected a directory this user can write to, or a path where one can be created`,
    );
    const open = join(base, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    expect(await checkAsUnprivileged(join(open, 'results'))).toBe('ok');
  });
});

describe('checkWritableFile', () => {
  it('accepts a new file and an existing one in a writable directory', () => {
    expect(() => checkWritableFile(join(base, 'new.json'), 'Stack manifest')).not.toThrow();
    expect(() => checkWritableFile(file, 'Stack manifest')).not.toThrow();
  });

  it('error: refuses a directory, and a file whose directory cannot be made', () => {
    expect(thrown(() => checkWritableFile(base, 'Summary file')).message).toBe(`Summary file ${base} is a directory: expected a file`);
    expect(thrown(() => checkWritableFile(join(file, 'stack.json'), 'Stack manifest (--manifest)')).message).toBe(
      `Stack manifest (--manifest) ${join(file, 'stack.json')}: its directory ${file} is a file: expected a directory this user can write to, or a path where one can be created`,
    );
  });
});

describe('checkReadableDir and checkReadableFile', () => {
  it('accept what exists; a missing file is false', () => {
    expect(() => checkReadableDir(base, 'Results directory')).not.toThrow();
    expect(checkReadableFile(file, 'Flows file')).toBe(true);
    expect(checkReadableFile(join(base, 'absent'), 'Flows file')).toBe(false);
  });

  it('error: a file is not a directory, a directory is not a file', () => {
    expect(thrown(() => checkReadableDir(file, 'Results directory', 'RESULTS_DIR_INVALID'))).toMatchObject({
      code: 'RESULTS_DIR_INVALID',
      message: `Results directory ${file} is a file: expected an existing directory`,
    });
    expect(thrown(() => checkReadableDir(join(base, 'absent'), 'Results directory')).message).toBe(`Results directory ${join(base, 'absent')} does not exist: expected an existing directory`);
    expect(thrown(() => checkReadableFile(base, 'Flows file')).message).toBe(`Flows file ${base} is a directory: expected a readable file`);
  });
});
