/**
 * Checks of a path before anything is written to or read from it, so a bad `--results-dir`,
 * `--wallet-file` or `--manifest` fails at once with one line naming it (a `ConfigError`, exit 2)
 * instead of an errno stack trace halfway through a run. Also refuses pseudo file systems
 * (`/proc`, `/sys`, ...): nothing there is a place for files, and a recursive mkdir under `/proc`
 * never returns (each level's ENOENT sends it back up the path).
 */
import { accessSync, constants, statfsSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';

// statfs f_type of Linux pseudo file systems (linux/magic.h); other systems are not checked.
const PSEUDO_FILE_SYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x6165676c, 'pstore'],
  [0xcafe4a11, 'bpf'],
  [0x1cd1, 'devpts'],
  [0x62656570, 'configfs'],
  [0xde5e81e4, 'efivarfs'],
  [0x65735543, 'fusectl'],
  [0xf97cff8c, 'selinuxfs'],
  [0x19800202, 'mqueue'],
  [0x42494e4d, 'binfmt_misc'],
  [0x6e736673, 'nsfs'],
]);

const errnoCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

function reasonOf(code: string | undefined): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'ENAMETOOLONG':
      return 'name too long';
    default:
      return code ?? 'unknown error';
  }
}

function pathError(what: string, path: string, problem: string, expected: string, code: string, cause?: unknown): ConfigError {
  return new ConfigError(`${what} ${path} ${problem}: expected ${expected}`, { code, ...(cause === undefined ? {} : { cause }) });
}

/** The path itself or its nearest existing ancestor, with its stats. */
function nearestExisting(what: string, path: string, expected: string): { path: string; stats: Stats } {
  let current = resolve(path);
  for (;;) {
    try {
      return { path: current, stats: statSync(current) };
    } catch (err) {
      const code = errnoCode(err);
      // ENOTDIR: an ancestor is a file; going up finds it.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        throw pathError(what, path, `cannot be looked up (${reasonOf(code)} at ${current})`, expected, 'PATH_NOT_ACCESSIBLE', err);
      }
    }
    const parent = dirname(current);
    if (parent === current) throw pathError(what, path, 'has no existing ancestor', expected, 'PATH_NOT_ACCESSIBLE');
    current = parent;
  }
}

function pseudoFileSystem(path: string): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return PSEUDO_FILE_SYSTEMS.get(Number(statfsSync(path).type));
  } catch {
    return undefined; // statfs unsupported here: the access check below still runs
  }
}

/**
 * Checks that `path` is a directory this process can write into, or can be created as one: the
 * path, or its nearest existing ancestor, is a writable directory on a real file system. Creates
 * nothing. Throws a `ConfigError` naming `what` and the path.
 *
 * @example
 * checkWritableDir('results', 'Results directory (--results-dir)');
 * mkdirSync('results', { recursive: true });
 */
export function checkWritableDir(path: string, what: string): void {
  const expected = 'a directory this user can write to, or a path where one can be created';
  const found = nearestExisting(what, path, expected);
  if (!found.stats.isDirectory()) {
    const which = found.path === resolve(path) ? 'is a file' : `is under a file (${found.path})`;
    throw pathError(what, path, which, expected, 'PATH_NOT_A_DIRECTORY');
  }
  const fsName = pseudoFileSystem(found.path);
  if (fsName !== undefined) throw pathError(what, path, `is on the ${fsName} pseudo file system`, 'a directory on a real file system', 'PATH_PSEUDO_FILE_SYSTEM');
  try {
    accessSync(found.path, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw pathError(what, path, `is not writable (${reasonOf(errnoCode(err))} at ${found.path})`, expected, 'PATH_NOT_WRITABLE', err);
  }
}

/** Stats of `path`, or undefined when nothing is there; any other failure is a `ConfigError`. */
function statOrMissing(what: string, path: string, expected: string, code: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    const errno = errnoCode(err);
    if (errno === 'ENOENT') return undefined;
    throw pathError(what, path, errno === 'ENOTDIR' ? 'is under a file' : `cannot be looked up (${reasonOf(errno)})`, expected, code, err);
  }
}

function checkReadable(what: string, path: string, mode: number, expected: string, code: string): void {
  try {
    accessSync(path, mode);
  } catch (err) {
    throw pathError(what, path, `is not readable (${reasonOf(errnoCode(err))})`, expected, code, err);
  }
}

/**
 * Checks that a file can be written at `path` (created, or replaced by a rename): it is not a
 * directory or other non-file, and its directory passes `checkWritableDir`.
 *
 * @example
 * checkWritableFile('.vana-load/stack.json', 'Stack manifest (--manifest)');
 */
export function checkWritableFile(path: string, what: string): void {
  checkWritableDir(dirname(path), `${what} ${path}: its directory`);
  const stats = statOrMissing(what, path, 'a file path this user can write', 'PATH_NOT_ACCESSIBLE');
  if (stats !== undefined && !stats.isFile()) {
    throw pathError(what, path, stats.isDirectory() ? 'is a directory' : 'is not a regular file', 'a file', 'PATH_NOT_A_FILE');
  }
}

/**
 * Checks that `path` is an existing directory this process can read, for commands that read a
 * results directory. Throws a `ConfigError` with `code` (default `PATH_NOT_A_DIRECTORY`).
 *
 * @example
 * checkReadableDir('results/2026-11-23T11-40-00Z-ms03-ab12', 'Results directory');
 */
export function checkReadableDir(path: string, what: string, code = 'PATH_NOT_A_DIRECTORY'): void {
  const expected = 'an existing directory';
  const stats = statOrMissing(what, path, expected, code);
  if (stats === undefined) throw pathError(what, path, 'does not exist', expected, code);
  if (!stats.isDirectory()) throw pathError(what, path, 'is a file', expected, code);
  checkReadable(what, path, constants.R_OK | constants.X_OK, expected, code);
}

/**
 * Checks that `path`, when it exists, is a regular file this process can read. Returns false
 * when there is nothing at `path` (callers decide whether that is an error).
 *
 * @example
 * if (checkReadableFile(join(dir, 'flows.jsonl'), 'Flows file')) await readFlows(dir);
 */
export function checkReadableFile(path: string, what: string): boolean {
  const expected = 'a readable file';
  const stats = statOrMissing(what, path, expected, 'PATH_NOT_A_FILE');
  if (stats === undefined) return false;
  if (!stats.isFile()) throw pathError(what, path, stats.isDirectory() ? 'is a directory' : 'is not a regular file', expected, 'PATH_NOT_A_FILE');
  checkReadable(what, path, constants.R_OK, expected, 'PATH_NOT_READABLE');
  return true;
}
