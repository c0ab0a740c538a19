import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import { startLocalStack, type LocalStackOptions } from '../stack/startLocalStack.ts';
import { DEFAULT_MANIFEST_PATH, writeManifest, type StackManifest } from '../stack/manifest.ts';
import { checkWritableFile } from '../util/checkPath.ts';

/** Fixed ports of the foreground stack (`npm run dev`), so a browser or curl can find it. */
export const DEFAULT_STACK_PORTS = { anvil: 8545, api: 3001, storage: 3002, personalServer: 3003 } as const;

export interface RunStackCommandParameters extends LocalStackOptions {
  manifestPath?: string;
  logger: Logger;
  print: (line: string) => void;
}

/**
 * `vana-load stack` / `npm run dev`: starts the local stack in the foreground on fixed ports,
 * writes the manifest, prints the endpoints and stops everything on SIGINT/SIGTERM.
 * Resolves when the stack has stopped.
 */
export async function runStackCommand(params: RunStackCommandParameters): Promise<void> {
  const { manifestPath = DEFAULT_MANIFEST_PATH, print, logger, ...options } = params;
  // Checked before anvil starts: a manifest that cannot be written leaves nothing running.
  checkWritableFile(manifestPath, 'Stack manifest (--manifest)');
  const started = performance.now();
  const stack = await startLocalStack({
    anvilPort: DEFAULT_STACK_PORTS.anvil,
    apiPort: DEFAULT_STACK_PORTS.api,
    storagePort: DEFAULT_STACK_PORTS.storage,
    personalServerPort: DEFAULT_STACK_PORTS.personalServer,
    ...options,
    logger,
  });
  try {
    await writeManifest(manifestPath, stack.manifest);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  for (const line of describeStack(stack.manifest, manifestPath, performance.now() - started)) print(line);

  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      print(`\n${signal} received, stopping the stack...`);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await stack.stop();
  await rm(manifestPath, { force: true });
  print('Stack stopped.');
}

/** The lines `npm run dev` prints once the stack is up. */
export function describeStack(manifest: StackManifest, manifestPath: string, startMs: number): string[] {
  return [
    `vana-load local stack ready in ${(startMs / 1000).toFixed(1)} s`,
    `  API server       ${manifest.apiUrl}  (/health, /api/relay, /api/trusted-server, /api/trusted-server/poll)`,
    `  Storage          ${manifest.storageUrl}`,
    `  Personal server  ${manifest.personalServerUrl}`,
    `  Chain (anvil)    ${manifest.rpcUrl}  chain id ${manifest.chainId}`,
    `  Permissions      ${manifest.contracts.dataPortabilityPermissions}  grantee id ${manifest.granteeId}`,
    `  Manifest         ${manifestPath}`,
    'Press Ctrl-C to stop.',
  ];
}
