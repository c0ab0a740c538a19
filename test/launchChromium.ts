import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { brotliDecompressSync, createBrotliDecompress } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';

/** Set to a Chromium executable to use it instead of the npm one (e.g. on a machine that is not linux/x64). */
export const CHROMIUM_OVERRIDE_ENV = 'VANA_LOAD_TEST_CHROMIUM';

// What a locked-down machine (root, a container, no GPU, no network) needs. Playwright adds most of
// these itself and always gives the browser a fresh, temporary user-data dir; listed so the test
// does not depend on its defaults. No sandbox: as root Chromium will not start with one, in most
// containers it cannot build one, and the npm build ships no setuid helper; the page is our own
// offline file.
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--no-default-browser-check',
];

export interface LaunchChromiumParameters {
  /** `LANG` of the browser's environment; every other locale variable is removed, so this one decides. */
  lang: string;
}

export interface LaunchChromiumReturnType {
  browser: Browser;
  /** Where the executable came from, for messages. */
  source: string;
}

/**
 * Launches headless Chromium for the browser tests with nothing but Node and `npm install`: the
 * executable and the shared libraries it needs beyond glibc and libgcc (NSS, NSPR, expat) come from
 * the npm package `@sparticuz/chromium` (a devDependency), unpacked on first use into
 * `node_modules/.cache/vana-load-chromium/<version>/` (about 3 s). The bundled libraries go first on
 * `LD_LIBRARY_PATH`, so the system's are never needed. Throws, saying why, when no browser starts.
 *
 * @example
 * const { browser } = await launchChromium({ lang: 'C.UTF-8' });
 */
export async function launchChromium({ lang }: LaunchChromiumParameters): Promise<LaunchChromiumReturnType> {
  const override = process.env[CHROMIUM_OVERRIDE_ENV];
  const env = localeFreeEnv(lang);
  let executablePath: string;
  let source: string;
  if (override) {
    executablePath = override;
    source = `${override} (from ${CHROMIUM_OVERRIDE_ENV})`;
  } else {
    const unpacked = await unpackNpmChromium();
    executablePath = unpacked.executablePath;
    source = `@sparticuz/chromium ${unpacked.version}, unpacked to ${dirname(executablePath)}`;
    env.LD_LIBRARY_PATH = [unpacked.libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  }
  try {
    const browser = await chromium.launch({ executablePath, headless: true, args: FLAGS, env, timeout: 60_000 });
    return { browser, source };
  } catch (cause) {
    throw new Error(`Cannot launch headless Chromium: ${source}: ${(cause as Error).message}`, { cause });
  }
}

/** The environment with no LC_* or LANGUAGE (either would outrank LANG) and the given LANG. */
function localeFreeEnv(lang: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && key !== 'LANGUAGE' && key !== 'LANG' && !key.startsWith('LC_')) env[key] = value;
  }
  env.LANG = lang;
  return env;
}

async function unpackNpmChromium(): Promise<{ executablePath: string; libDir: string; version: string }> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `Cannot launch headless Chromium: @sparticuz/chromium ships a linux/x64 build, this is ${process.platform}/${process.arch}; ` +
        `set ${CHROMIUM_OVERRIDE_ENV} to a Chromium executable`,
    );
  }
  let packageDir: string;
  try {
    // The package exports only its entry point (build/cjs/index.cjs); its bin/ is two levels up.
    packageDir = join(dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium')), '..', '..');
  } catch (cause) {
    throw new Error('Cannot launch headless Chromium: @sparticuz/chromium is not installed; run `npm install` (it is a devDependency)', { cause });
  }
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  // node_modules/.cache, not the package's own choice of /tmp/chromium: that path is shared by every
  // project and version, reused even when a crash left it half written, and /tmp is often noexec.
  const dir = join(packageDir, '..', '..', '.cache', 'vana-load-chromium', version);
  const executablePath = join(dir, 'chromium');
  const libDir = join(dir, 'lib');
  if (existsSync(executablePath) && existsSync(libDir)) return { executablePath, libDir, version };

  const started = performance.now();
  await mkdir(dir, { recursive: true });
  const bin = join(packageDir, 'bin');
  await publish(executablePath, async (partial) => {
    await pipeline(createReadStream(join(bin, 'chromium.br')), createBrotliDecompress(), createWriteStream(partial, { mode: 0o755 }));
  });
  // Amazon Linux's NSS, NSPR and expat, which the build links against; glibc is the machine's.
  await publish(libDir, async (partial) => {
    await mkdir(partial);
    for (const file of tarFiles(brotliDecompressSync(await readFile(join(bin, 'al2023.tar.br'))))) {
      if (!file.name.startsWith('lib/')) continue;
      await writeFile(join(partial, basename(file.name)), file.data, { mode: file.name.includes('.so') ? 0o755 : 0o644 });
    }
    // Without it the launch would quietly fall back to the system's NSS, which a fresh machine may lack.
    if (!existsSync(join(partial, 'libnss3.so'))) throw new Error(`${join(bin, 'al2023.tar.br')} holds no lib/libnss3.so`);
  });
  console.log(`unpacked @sparticuz/chromium ${version} to ${dir} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { executablePath, libDir, version };
}

/** Writes `target` through a temporary name and renames it, so no reader ever sees it half written. */
async function publish(target: string, write: (partial: string) => Promise<void>): Promise<void> {
  if (existsSync(target)) return;
  const partial = `${target}.${process.pid}.partial`;
  await rm(partial, { recursive: true, force: true });
  try {
    await write(partial);
    await rename(partial, target);
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    if (!existsSync(target)) throw err; // otherwise another process published it first
  }
}

/** The regular files of a ustar or GNU tar archive: all that al2023.tar holds. */
function* tarFiles(tar: Buffer): Generator<{ name: string; data: Buffer }> {
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) return; // end-of-archive block
    const field = (start: number, length: number): string => header.subarray(start, start + length).toString('utf8').split('\0')[0]!;
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    // POSIX ustar keeps a name prefix at 345; GNU tar (magic "ustar  ", as here) keeps other fields there.
    const prefix = header.subarray(257, 263).toString('latin1') === 'ustar\0' ? field(345, 155) : '';
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const type = field(156, 1);
    if (type === '0' || type === '') yield { name, data: tar.subarray(offset + 512, offset + 512 + size) };
    offset += 512 + Math.ceil(size / 512) * 512;
  }
}
