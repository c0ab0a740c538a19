#!/usr/bin/env node
// Re-adds the lockfile entries of anvil's other-platform packages, which `npm install` drops when
// the registry in use does not carry them. Without them `npm ci` refuses the lockfile.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const anvil = lock.packages['node_modules/@foundry-rs/anvil'];
if (!anvil) throw new Error('package-lock.json has no @foundry-rs/anvil entry');
const platforms = { 'darwin-amd64': ['darwin', 'x64'], 'darwin-arm64': ['darwin', 'arm64'], 'linux-amd64': ['linux', 'x64'], 'linux-arm64': ['linux', 'arm64'], 'win32-amd64': ['win32', 'x64'] };
let added = 0;
for (const [name, version] of Object.entries(anvil.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const [os, cpu] = platforms[name.replace('@foundry-rs/anvil-', '')] ?? [];
  if (!os) throw new Error(`unknown anvil platform package ${name}`);
  lock.packages[key] = { version, cpu: [cpu], license: anvil.license, optional: true, os: [os], bin: { anvil: os === 'win32' ? 'bin/anvil.exe' : 'bin/anvil' }, engines: { node: '>=20' } };
  added += 1;
}
const sorted = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`restored ${added} lockfile entr${added === 1 ? 'y' : 'ies'}`);
