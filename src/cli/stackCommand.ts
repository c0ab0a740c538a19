import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import { startLocalStack, type LocalStackOptions } from '../stack/startLocalStack.ts';
import { DEFAULT_MANIFEST_PATH, writeManifest, type StackManifest } from '../stack/manifest.ts';
import { checkWritableFile } from '../util/checkPath.ts';

export interface RunStackCommandParameters extends LocalStackOptions {
  manifestPath?: string;
  logger: Logger;
  print: (line: string) => void;
}

/**
 * `vana-load stack` / `npm run dev`: starts the local stack in the foreground on the given ports,
 * writes the manifest, prints the endpoints and stops everything on SIGINT/SIGTERM.
 * Resolves when the stack has stopped.
 */
export async function runStackCommand(params: RunStackCommandParameters): Promise<void> {
  const { manifestPath = DEFAULT_MANIFEST_PATH, print, logger, ...options } = params;
  // Checked before anvil starts: a manifest that cannot be written leaves nothing running.
  checkWritableFile(manifestPath, 'Stack manifest (--manifest)');
  const started = performance.now();
  // Ports come from the config (fixed defaults 8545, 3001-3003, so a browser or curl can find them).
  const stack = await startLocalStack({ ...options, logger });
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
    `  API server       ${manifest.apiUrl}  (/health, /api/relay answering ${manifest.relayResponse}, /api/trusted-server, /api/trusted-server/poll)`,
    manifest.s3
      ? `  Storage (S3)     ${manifest.s3.endpoint}  bucket ${manifest.s3.bucket}, region ${manifest.s3.region}, path-style (local key pair in the manifest)`
      : `  Storage          ${manifest.storageUrl}`,
    `  Personal server  ${manifest.personalServerUrl}`,
    `  Chain (anvil)    ${manifest.rpcUrl}  chain id ${manifest.chainId}`,
    `  Permissions      ${manifest.contracts.dataPortabilityPermissions}  grantee id ${manifest.granteeId}`,
    `  Manifest         ${manifestPath}`,
    'Press Ctrl-C to stop.',
  ];
}
