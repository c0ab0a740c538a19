#!/usr/bin/env node
/**
 * `npm run artillery:install`: installs Artillery, pinned, into `.vana-load/artillery/` (git-ignored),
 * outside the project's dependencies. Artillery is ~590 MB and ~580 packages (AWS, Azure and
 * Playwright clients included), and its Playwright dependency downloads a browser at install time,
 * which fails on machines without that download; so it is not part of `npm install`, and this
 * installs it with the browser download skipped (the vana engine needs no browser).
 *
 * 2.0.21 is the last Artillery that runs on Node 20 (2.0.22 and later need Node >= 22.13).
 * Artillery finds the engine by walking up from its own folder to this repository's
 * node_modules, where npm links the workspace package artillery-engine-vana.
 *
 *   npm run artillery:install            # idempotent: does nothing when the pinned version is there
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ARTILLERY_VERSION = '2.0.21';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = join(root, '.vana-load', 'artillery');
const installed = join(dir, 'node_modules', 'artillery', 'package.json');

const version = existsSync(installed) ? JSON.parse(readFileSync(installed, 'utf8')).version : undefined;
if (version === ARTILLERY_VERSION) {
  console.log(`artillery ${version} already installed in ${dir}`);
  process.exit(0);
}
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ private: true, description: 'Artillery for vana-load (npm run artillery:install)', dependencies: { artillery: ARTILLERY_VERSION } }, null, 2)}\n`);
console.log(`installing artillery ${ARTILLERY_VERSION} into ${dir} (about 1.5 minutes, ~590 MB)...`);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const result = spawnSync(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
  cwd: dir,
  stdio: 'inherit',
  env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
});
if (result.status !== 0) {
  console.error(`npm install of artillery ${ARTILLERY_VERSION} failed (exit ${result.status ?? result.signal})`);
  process.exit(1);
}
console.log(`artillery ${ARTILLERY_VERSION} installed: ${join(dir, 'node_modules', '.bin', 'artillery')}`);
