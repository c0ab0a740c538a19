/**
 * `npm run contracts`: compiles contracts/*.sol and writes contracts/artifacts/<Name>.json and
 * src/protocol/abis.ts. Commit the result; scripts/compile-contracts.test.ts fails on drift.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { compileContracts, REPO_ROOT } from './contractArtifacts.ts';

const t0 = performance.now();
const { files, warnings } = compileContracts();
const ms = Math.round(performance.now() - t0);
for (const warning of warnings) console.warn(warning);
for (const [path, text] of Object.entries(files)) {
  mkdirSync(dirname(join(REPO_ROOT, path)), { recursive: true });
  writeFileSync(join(REPO_ROOT, path), text);
  console.log(`wrote ${path}`);
}
console.log(`compiled in ${ms} ms`);
