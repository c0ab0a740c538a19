/**
 * The chain timeline of a run, wired from its environment: blocks from the run's public client
 * (into `blocks.jsonl`), our relayers from wherever they are known, the personal server's queue
 * where it tells. Relayers: relay `keys` → the harness's own pool; relay `api` with our API server
 * (the local stack, or any relayer answering `GET /stats` as ours does) → its `/stats`; a relayer
 * that tells nothing, or relay `direct` (users pay) → left out, and the notes say so. The personal
 * server: its `GET /stats` (ours has one; the real one does not) or left out.
 */
import { isAddress, type Address } from 'viem';
import { z } from 'zod';
import type { VanaLoadConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { createBlocksFile, BLOCKS_FILE, type BlocksFile } from '../metrics/blocksFile.ts';
import { startChainTimeline, type ChainTimeline } from '../metrics/chainTimeline.ts';
import type { PersonalServerQueueSample } from '../metrics/chainTypes.ts';
import type { RelayerNonce } from '../metrics/readRelayers.ts';
import { urlOrigin } from '../util/urlOrigin.ts';
import type { FlowEnvironment } from './flowEnvironment.ts';

// A stack under load answers late (its event loop is the one serving the flows); a late answer is
// still a figure, and the next read waits for this one, so a read never piles up behind another.
const STATS_TIMEOUT_MS = 5_000;

const address = z.custom<Address>((value) => typeof value === 'string' && isAddress(value, { strict: false }), 'Expected an address');
const apiStats = z.looseObject({
  relayerPool: z.looseObject({ relayers: z.array(z.looseObject({ address, nextNonce: z.number().int().nonnegative() })) }),
});
const personalServerStats = z.looseObject({
  queue: z.object({ preparing: z.number().int().nonnegative(), running: z.number().int().nonnegative() }),
});

/** GET `url` as JSON checked by `schema`; throws on anything else. */
async function getJson<T>(url: string, schema: z.ZodType<T>): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(STATS_TIMEOUT_MS) });
  // Origin only, as anywhere a URL is shown: a remote URL's path may carry a key.
  const where = `GET ${urlOrigin(url)}/…/stats`;
  if (!response.ok) throw new Error(`${where} answered ${response.status}`);
  const parsed = schema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new Error(`${where}: unexpected body (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return parsed.data;
}

export interface OpenChainTimelineParameters {
  env: Pick<FlowEnvironment, 'publicClient' | 'relayerPool' | 'apiUrl' | 'personalServerUrl' | 'chainId'>;
  config: Readonly<Pick<VanaLoadConfig, 'relay'>>;
  logger: Logger;
  /** `results/<run-id>`: `blocks.jsonl` goes there. */
  dir: string;
}

export interface OpenedChainTimeline {
  timeline: ChainTimeline;
  /** What the timeline follows, for the run's notices: one line. */
  description: string;
  /** What it leaves out, and why, so far (for `summary.chain.notes`). */
  notes(): string[];
  /** Writes the blocks read since the last call to `blocks.jsonl` (once per sample). */
  flush(): void;
  /** Stops the timeline and closes `blocks.jsonl`. */
  close(): Promise<void>;
}

/**
 * @example
 * const chain = await openChainTimeline({ env, config, logger, dir: writer.dir });
 * report.onNotice(chain.description);
 */
export async function openChainTimeline({ env, config, logger, dir }: OpenChainTimelineParameters): Promise<OpenedChainTimeline> {
  const notes: string[] = [];
  const follows = [`blocks of chain ${env.chainId} (${BLOCKS_FILE})`];

  let relayers: { addresses: readonly Address[]; next?: () => Promise<readonly RelayerNonce[]> } | undefined;
  if (config.relay.mode === 'direct') {
    notes.push('relayers: none (relay direct: each user sends and pays for its own transaction)');
  } else if (env.relayerPool) {
    const pool = env.relayerPool;
    relayers = { addresses: pool.addresses, next: async () => pool.stats().relayers };
    follows.push(`${pool.addresses.length} relayers (the harness's pool)`);
  } else if (config.relay.url === undefined && env.apiUrl !== undefined) {
    const url = `${env.apiUrl}/stats`;
    const first = await getJson(url, apiStats).catch((err: unknown) => err as Error);
    if (first instanceof Error) {
      notes.push(`relayers: not measured (the relayer at ${urlOrigin(env.apiUrl)} tells no pending transactions or nonces: ${first.message})`);
    } else {
      relayers = { addresses: first.relayerPool.relayers.map((r) => r.address), next: async () => (await getJson(url, apiStats)).relayerPool.relayers };
      follows.push(`${first.relayerPool.relayers.length} relayers (the API server's /stats)`);
    }
  } else {
    notes.push('relayers: not measured (the relayer is not ours: its addresses are unknown)');
  }

  let personalServerQueue: (() => Promise<PersonalServerQueueSample>) | undefined;
  const psUrl = `${env.personalServerUrl.replace(/\/+$/, '')}/stats`;
  const probe = await getJson(psUrl, personalServerStats).catch((err: unknown) => err as Error);
  if (probe instanceof Error) {
    notes.push(`personal-server queue: not measured (the server at ${urlOrigin(env.personalServerUrl)} exposes none: ${probe.message})`);
  } else {
    personalServerQueue = async () => (await getJson(psUrl, personalServerStats)).queue;
    follows.push("the personal server's queue");
  }

  let file: BlocksFile | undefined = createBlocksFile(dir);
  const timeline = startChainTimeline(env.publicClient, {
    logger,
    ...(relayers ? { relayers } : {}),
    ...(personalServerQueue ? { personalServerQueue } : {}),
    onBlock: (block) => file?.append(block),
  });
  logger.info({ follows, notes }, 'chain timeline started');
  return {
    timeline,
    description: `⛓️  Chain timeline: ${follows.join(' · ')}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`,
    notes: () => {
      const { skipped, errors } = timeline.blockStats();
      const later = skipped > 0 || errors > 0 ? [`blocks: ${skipped} not read after pauses, ${errors} failed reads (the per-interval figures leave them out)`] : [];
      const { relayers: r, personalServer: ps } = timeline.readStats();
      // A failed read leaves its source out of the samples until the next one answers.
      if (r && r.failed > 0) later.push(`relayers: ${r.failed} of ${r.reads} reads failed (the samples after each carry no relayer figures until one answers)`);
      if (ps && ps.failed > 0) later.push(`personal-server queue: ${ps.failed} of ${ps.reads} reads failed (the samples after each carry no queue figures until one answers)`);
      return [...notes, ...later];
    },
    flush: () => file?.flush(),
    async close() {
      await timeline.stop();
      const stats = timeline.blockStats();
      logger.info({ blocks: stats }, 'chain timeline stopped');
      file?.close();
      file = undefined;
    },
  };
}
