/**
 * Compiles `contracts/*.sol` with the pinned solc-js and renders what `npm run contracts` commits:
 * one artifact per deployable contract and `src/protocol/abis.ts`. Pure apart from reading the
 * sources, so the drift test can recompile in memory and compare with the committed files.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';
import type { Abi, Hex } from 'viem';

/** The only solc version the artifacts may come from (package.json pins the npm `solc` too). */
export const SOLC_VERSION = '0.8.30';

/** The contracts that get an artifact and an exported ABI, with the ABI's export name. */
export const DEPLOYABLE_CONTRACTS = {
  DataRegistry: 'dataRegistryAbi',
  DataPortabilityServers: 'dataPortabilityServersAbi',
  DataPortabilityGrantees: 'dataPortabilityGranteesAbi',
  DataPortabilityPermissions: 'dataPortabilityPermissionsAbi',
  BatchFunder: 'batchFunderAbi',
} as const;

export type ContractName = keyof typeof DEPLOYABLE_CONTRACTS;

/** What `contracts/artifacts/<Name>.json` holds. */
export interface ContractArtifact {
  contractName: ContractName;
  abi: Abi;
  bytecode: Hex;
  solcVersion: string;
  /** sha256 over the names and contents of every source unit of the compilation (OZ included). */
  sourceHash: Hex;
}

export interface CompileContractsResult {
  artifacts: Record<ContractName, ContractArtifact>;
  /** File contents, keyed by path relative to the repository root. */
  files: Record<string, string>;
  warnings: string[];
}

/** Settings that change bytecode; recorded here so a change shows up as drift. */
const COMPILER_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  // Cancun is supported by anvil 1.7 (default hardfork: latest) and by every current EVM chain.
  evmVersion: 'cancun',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
} as const;

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ARTIFACTS_DIR = 'contracts/artifacts';
export const ABIS_TS_PATH = 'src/protocol/abis.ts';

interface SolcOutput {
  errors?: Array<{ severity: 'error' | 'warning' | 'info'; formattedMessage: string }>;
  sources?: Record<string, unknown>;
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
}

function openZeppelinRoot(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@openzeppelin/contracts/package.json'));
}

/**
 * Compiles every `contracts/*.sol` and returns the artifacts and the rendered files. Throws with
 * solc's formatted messages on a compile error, or when the installed solc is not 0.8.30.
 *
 * @example
 * const { files } = compileContracts();
 * for (const [path, text] of Object.entries(files)) writeFileSync(join(REPO_ROOT, path), text);
 */
export function compileContracts(root: string = REPO_ROOT): CompileContractsResult {
  const version = solc.version() as string;
  if (!version.startsWith(`${SOLC_VERSION}+`)) {
    throw new Error(`Expected solc ${SOLC_VERSION}, got ${version}: reinstall the pinned devDependency (npm ci)`);
  }

  const contractsDir = join(root, 'contracts');
  const sources: Record<string, { content: string }> = {};
  for (const file of readdirSync(contractsDir).filter((f) => f.endsWith('.sol')).sort()) {
    sources[`contracts/${file}`] = { content: readFileSync(join(contractsDir, file), 'utf8') };
  }

  const ozRoot = openZeppelinRoot();
  const imported: Record<string, string> = {};
  const findImports = (path: string): { contents: string } | { error: string } => {
    const prefix = '@openzeppelin/contracts/';
    if (!path.startsWith(prefix)) return { error: `Expected an @openzeppelin/contracts import, got ${path}` };
    const file = join(ozRoot, path.slice(prefix.length));
    if (relative(ozRoot, file).startsWith('..')) return { error: `Import escapes @openzeppelin/contracts: ${path}` };
    try {
      imported[path] = readFileSync(file, 'utf8');
      return { contents: imported[path] };
    } catch {
      return { error: `Not found in node_modules: ${path}` };
    }
  };

  const input = { language: 'Solidity', sources, settings: COMPILER_SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }) as string) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  const warnings = (output.errors ?? []).filter((e) => e.severity === 'warning').map((e) => e.formattedMessage);

  const allSources: Record<string, string> = { ...imported };
  for (const [name, { content }] of Object.entries(sources)) allSources[name] = content;
  const hash = createHash('sha256');
  for (const name of Object.keys(allSources).sort()) hash.update(`${name}\0${allSources[name]}\0`);
  const sourceHash: Hex = `0x${hash.digest('hex')}`;

  const artifacts = {} as Record<ContractName, ContractArtifact>;
  const files: Record<string, string> = {};
  for (const contractName of Object.keys(DEPLOYABLE_CONTRACTS) as ContractName[]) {
    const compiled = output.contracts?.[`contracts/${contractName}.sol`]?.[contractName];
    if (!compiled) throw new Error(`Expected contracts/${contractName}.sol to define contract ${contractName}`);
    const artifact: ContractArtifact = {
      contractName,
      abi: compiled.abi,
      bytecode: `0x${compiled.evm.bytecode.object}`,
      solcVersion: version,
      sourceHash,
    };
    artifacts[contractName] = artifact;
    files[`${ARTIFACTS_DIR}/${contractName}.json`] = `${JSON.stringify(artifact, null, 2)}\n`;
  }
  files[ABIS_TS_PATH] = renderAbisTs(artifacts);
  return { artifacts, files, warnings };
}

function renderAbisTs(artifacts: Record<ContractName, ContractArtifact>): string {
  const parts = [
    '// Generated by `npm run contracts` (scripts/contractArtifacts.ts) from contracts/*.sol. Do not edit:',
    '// change the Solidity and rerun; scripts/compile-contracts.test.ts fails when this file drifts.',
    '',
  ];
  for (const [contractName, exportName] of Object.entries(DEPLOYABLE_CONTRACTS) as Array<[ContractName, string]>) {
    parts.push(`/** ABI of contracts/${contractName}.sol (local stack; ABI-compatible with Vana's). */`);
    parts.push(`export const ${exportName} = ${JSON.stringify(artifacts[contractName].abi, null, 2)} as const;`, '');
  }
  return parts.join('\n');
}
