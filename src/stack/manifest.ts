import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Address } from 'viem';
import { InfrastructureError } from '../errors.ts';

/** Where `npm run dev` writes the manifest of the foreground stack. */
export const DEFAULT_MANIFEST_PATH = '.vana-load/stack.json';

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/) as unknown as z.ZodType<Address>;

const manifestSchema = z.object({
  version: z.literal(1),
  startedAt: z.string(),
  chainId: z.number().int().positive(),
  rpcUrl: z.string().url(),
  apiUrl: z.string().url(),
  /** How `/api/relay` answers signed requests. */
  relayResponse: z.enum(['submitted', 'pending']),
  /** The storage service (stack storage local). */
  storageUrl: z.string().url().optional(),
  /** The local S3-compatible server (stack storage s3); its key pair is local-only, like the dev accounts. */
  s3: z
    .object({ endpoint: z.string().url(), bucket: z.string(), region: z.string(), accessKeyId: z.string(), secretAccessKey: z.string() })
    .optional(),
  personalServerUrl: z.string().url(),
  granteeId: z.string().regex(/^\d+$/),
  contracts: z.object({
    dataRegistry: address,
    dataPortabilityServers: address,
    dataPortabilityGrantees: address,
    dataPortabilityPermissions: address,
    batchFunder: address,
  }),
  /** `anvil` mines; `anvilUpstream` is the empty anvil it forks when it computes no state root (src/stack/localChain.ts). */
  pids: z.object({ stack: z.number().int(), anvil: z.number().int(), anvilUpstream: z.number().int().optional() }),
  /** Addresses of the stack's accounts (never keys). */
  accounts: z.object({ deployer: address, app: address, relayers: z.array(address) }),
});

/**
 * What a running local stack tells its clients: chain, endpoints, contract addresses and the pids
 * of its processes (so the harness can sample their CPU and memory).
 */
export type StackManifest = z.infer<typeof manifestSchema>;

/** Parses a manifest object, failing with the first bad field named. */
export function parseManifest(json: unknown, source = 'manifest'): StackManifest {
  const result = manifestSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new InfrastructureError(`Invalid stack manifest: ${issue?.path.join('.') || '(root)'} ${issue?.message ?? ''}`, {
      code: 'STACK_MANIFEST_INVALID',
      metaMessages: [`source: ${source}`],
    });
  }
  return result.data;
}

/** Writes the manifest atomically (temp file + rename) so a reader never sees half a file. */
export async function writeManifest(path: string, manifest: StackManifest): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, path);
}

/** Reads a manifest, or returns undefined when the file does not exist. */
export async function readManifest(path: string): Promise<StackManifest | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseManifest(JSON.parse(text) as unknown, path);
}
