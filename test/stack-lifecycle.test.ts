import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureStack, type StackHandle } from '../src/stack/ensureStack.ts';
import { freePort } from '../src/util/freePort.ts';
import { parseManifest } from '../src/stack/manifest.ts';
import { isProcessRunning } from '../src/util/processAlive.ts';

async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return predicate();
}

const tmpDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vana-load-stack-'));
  tmpDirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of tmpDirs) await rm(dir, { recursive: true, force: true });
});

describe('ensureStack', () => {
  let handle: StackHandle | undefined;
  afterAll(async () => {
    await handle?.stop();
  });

  it('spawns a stack process whose endpoints answer, and stop() leaves no process behind', async () => {
    handle = await ensureStack({ attach: false });
    const { manifest } = handle;
    expect(handle.owned).toBe(true);
    expect(manifest.pids.stack).not.toBe(process.pid);
    const health = await fetch(`${manifest.apiUrl}/health`);
    expect(health.status).toBe(200);
    const identity = await fetch(`${manifest.personalServerUrl}/identity?address=${manifest.accounts.app}`);
    expect(identity.status).toBe(200);

    await handle.stop();
    expect(isProcessRunning(manifest.pids.stack)).toBe(false);
    expect(isProcessRunning(manifest.pids.anvil)).toBe(false);
  });

  it('attaches to a healthy stack named by a manifest instead of spawning another', async () => {
    const owner = await ensureStack({ attach: false });
    try {
      const dir = await tempDir();
      const manifestPath = join(dir, 'stack.json');
      await writeFile(manifestPath, JSON.stringify(owner.manifest));
      const attached = await ensureStack({ manifestPath });
      expect(attached.owned).toBe(false);
      expect(attached.manifest.apiUrl).toBe(owner.manifest.apiUrl);
      await attached.stop();
      expect(isProcessRunning(owner.manifest.pids.anvil)).toBe(true);
    } finally {
      await owner.stop();
    }
  });

  it('stops the stack and anvil when the parent process is killed with SIGKILL', async () => {
    const dir = await tempDir();
    const script = join(dir, 'parent.mts');
    const ensureStackUrl = new URL('../src/stack/ensureStack.ts', import.meta.url).href;
    await writeFile(
      script,
      `import { ensureStack } from ${JSON.stringify(ensureStackUrl)};\n` +
        `const h = await ensureStack({ attach: false });\n` +
        `process.stdout.write(JSON.stringify(h.manifest) + '\\n');\n` +
        `setInterval(() => {}, 1000);\n`,
    );
    const parent = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      parent.stdout.setEncoding('utf8');
      parent.stdout.on('data', (chunk: string) => {
        buf += chunk;
        const nl = buf.indexOf('\n');
        if (nl >= 0) resolve(buf.slice(0, nl));
      });
      parent.once('exit', (code) => reject(new Error(`parent exited early with ${code}`)));
    });
    const manifest = parseManifest(JSON.parse(line));
    parent.kill('SIGKILL');
    expect(await waitUntil(() => !isProcessRunning(manifest.pids.stack) && !isProcessRunning(manifest.pids.anvil), 20_000)).toBe(true);
  });
});

describe('npm run dev (vana-load stack)', () => {
  it('prints the endpoints, writes the manifest, and on SIGINT stops everything and removes the manifest', async () => {
    const dir = await tempDir();
    const manifestPath = join(dir, 'stack.json');
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const cli = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'stack',
        '--api-port', String(ports[0]),
        '--storage-port', String(ports[1]),
        '--personal-server-port', String(ports[2]),
        '--anvil-port', String(ports[3]),
        '--manifest', manifestPath,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    cli.stdout.setEncoding('utf8');
    cli.stdout.on('data', (c: string) => (out += c));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
    const started = Date.now();
    expect(await waitUntil(() => out.includes('Press Ctrl-C to stop.'), 30_000)).toBe(true);
    const startupMs = Date.now() - started;
    expect(out).toContain(`http://127.0.0.1:${ports[0]}`);
    const manifest = parseManifest(JSON.parse(await readFile(manifestPath, 'utf8')));
    expect((await fetch(`${manifest.apiUrl}/health`)).status).toBe(200);

    cli.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(isProcessRunning(manifest.pids.anvil)).toBe(false);
    await expect(readFile(manifestPath, 'utf8')).rejects.toThrow(/ENOENT/);
    // Reported, not asserted: start-up time depends on the machine's load.
    process.stdout.write(`npm run dev start-up: ${startupMs} ms\n`);
  });
});
