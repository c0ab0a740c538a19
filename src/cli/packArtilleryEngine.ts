/**
 * The engine as one npm tarball that installs on a machine without this repository: Artillery's
 * Fargate and Lambda workers. Artillery uploads the script's folder (`package.json`, and the files
 * of `config.includeFiles`) and runs `npm install` there, then `npm install artillery-engine-<name>`
 * for every engine of the script; npm keeps the `file:` spec that package.json gives that name,
 * so the engine comes from the uploaded tarball, never from the registry (where the name is not ours).
 *
 * The tarball holds the engine and exactly the harness files it imports (found by following the
 * import statements from the engine's entry), at `vana-load/<path>`, and lists as dependencies the
 * npm packages those files import, at this repository's versions, plus tsx, which loads the
 * TypeScript on the worker.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VanaLoadError } from '../errors.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ENGINE_DIR = join(REPO_ROOT, 'packages', 'artillery-engine-vana');
const ENTRY = join(ENGINE_DIR, 'src', 'createVanaEngine.ts');
/** The engine's one import of the harness (src/harness.ts), rewritten for the tarball's layout. */
const HARNESS_PREFIX = { repo: "'../../../", packed: "'../vana-load/" } as const;

// Runtime imports only: `import type` / `export type` are erased, `import { type X }` is not.
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[\s\S]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

export interface EngineImports {
  /** Absolute paths of the files the entry reaches, itself included. */
  files: string[];
  /** npm package names those files import. */
  packages: string[];
}

/** Follows the relative imports from `entry`; bare specifiers become package names. */
export function engineImports(entry: string = ENTRY): EngineImports {
  const files = new Set<string>();
  const packages = new Set<string>();
  const builtins = new Set(builtinModules);
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    if (!file.endsWith('.ts')) return;
    const source = readFileSync(file, 'utf8');
    // Files named by `new URL('./x', import.meta.url)` are not followed: in the harness they are
    // only opened to start a local stack (stackProcess.ts, contract artifacts), which the engine never does.
    for (const pattern of [STATIC_IMPORT, DYNAMIC_IMPORT]) {
      for (const [, specifier] of source.matchAll(pattern)) {
        if (specifier === undefined) continue;
        if (specifier.startsWith('.')) {
          const target = resolve(dirname(file), specifier);
          if (!existsSync(target)) throw new VanaLoadError(`${relative(REPO_ROOT, file)} imports ${specifier}, which does not exist`, { code: 'ENGINE_PACK_FAILED' });
          visit(target);
        } else if (!specifier.startsWith('node:') && !builtins.has(specifier)) {
          const parts = specifier.split('/');
          packages.add(specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
        }
      }
    }
  };
  visit(entry);
  return { files: [...files].sort(), packages: [...packages].sort() };
}

export interface PackArtilleryEngineReturnType {
  /** File name of the tarball in `outDir`. */
  tarball: string;
  dependencies: Record<string, string>;
  files: number;
}

/**
 * Writes `artillery-engine-vana-<version>.tgz` and a `package.json` that depends on it into
 * `outDir` (the folder of the Artillery script), for run-fargate and run-lambda.
 *
 * @example
 * const { tarball } = await packArtilleryEngine('artillery-bundle');
 */
export async function packArtilleryEngine(outDir: string): Promise<PackArtilleryEngineReturnType> {
  const { files, packages } = engineImports();
  const enginePackage = JSON.parse(await readFile(join(ENGINE_DIR, 'package.json'), 'utf8')) as { name: string; version: string; description: string; engines: unknown };
  const root = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  const versionOf = (name: string): string => {
    const version = root.dependencies[name] ?? root.devDependencies[name];
    if (version === undefined) throw new VanaLoadError(`The engine imports ${name}, which package.json does not list`, { code: 'ENGINE_PACK_FAILED' });
    return version;
  };
  const dependencies = Object.fromEntries([...packages, 'tsx'].sort().map((name) => [name, versionOf(name)]));

  const stage = await mkdtemp(join(tmpdir(), 'artillery-engine-vana-pack-'));
  try {
    for (const file of [...files, join(ENGINE_DIR, 'index.cjs'), join(ENGINE_DIR, 'local-workers.cjs')]) {
      const inEngine = file.startsWith(`${ENGINE_DIR}${sep}`);
      const target = join(stage, inEngine ? relative(ENGINE_DIR, file) : join('vana-load', relative(REPO_ROOT, file)));
      await mkdir(dirname(target), { recursive: true });
      if (file === join(ENGINE_DIR, 'src', 'harness.ts')) {
        await writeFile(target, (await readFile(file, 'utf8')).replaceAll(HARNESS_PREFIX.repo, HARNESS_PREFIX.packed));
      } else {
        if (inEngine && file.endsWith('.ts') && (await readFile(file, 'utf8')).includes(HARNESS_PREFIX.repo)) {
          throw new VanaLoadError(`${relative(REPO_ROOT, file)} imports the harness directly; only src/harness.ts may`, { code: 'ENGINE_PACK_FAILED' });
        }
        await cp(file, target);
      }
    }
    const manifest = {
      name: enginePackage.name,
      version: enginePackage.version,
      description: enginePackage.description,
      type: 'module',
      main: './index.cjs',
      engines: enginePackage.engines,
      license: 'UNLICENSED',
      dependencies,
    };
    await writeFile(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await mkdir(outDir, { recursive: true });
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const packed = spawnSync(npm, ['pack', '--silent', '--pack-destination', resolve(outDir)], { cwd: stage, encoding: 'utf8' });
    if (packed.status !== 0) throw new VanaLoadError(`npm pack failed: ${packed.stderr.trim().split('\n').at(-1) ?? ''}`, { code: 'ENGINE_PACK_FAILED' });
    const tarball = packed.stdout.trim().split('\n').at(-1)!;
    const bundlePackage = { private: true, description: 'Artillery test folder for artillery-engine-vana (vana-load artillery init --bundle)', dependencies: { [enginePackage.name]: `file:./${tarball}` } };
    await writeFile(join(outDir, 'package.json'), `${JSON.stringify(bundlePackage, null, 2)}\n`);
    return { tarball, dependencies, files: files.length };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
