/**
 * Storage benchmark: uploads per second of fresh (never duplicate) blobs to the local storage
 * service, or to the local S3 server (`--store s3`: s3rver behind its SigV4 gate), with N
 * concurrent clients, and the latency of one upload.
 *
 *   npx tsx scripts/bench-storage.ts [--store local|s3] [--seconds 2] [--warm-up 5] [--clients 50] [--size 10240] [--client provider|http|provider,http] [--json]
 *   npm run bench -- storage [same options]
 *
 * Processes: this one is the client; the store runs in a child forked with `--serve`, as in the
 * real stack, so the two never share an event loop. `provider` uploads through the harness's
 * provider (`createLocalStorageProvider`, global fetch / undici; or `createS3StorageProvider`, the
 * AWS SDK's PUT then a presigned GET URL); `http` (local store only) uses a bare `node:http`
 * keep-alive agent, to show how much of the figure is client overhead.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pidusage from 'pidusage';
import { createLocalStorageProvider } from '../src/storage/localStorageProvider.ts';
import { createS3StorageProvider } from '../src/storage/s3StorageProvider.ts';
import type { StorageProvider } from '../src/storage/StorageProvider.ts';
import { startS3Server } from '../src/servers/storage/s3Server.ts';
import { startStorageService, type StorageServiceStats } from '../src/servers/storage/storageService.ts';
import { nextMessage } from './benchChild.ts';

/** `provider`: through createLocalStorageProvider (fetch). `http`: a bare node:http keep-alive agent. */
export type ClientKind = 'provider' | 'http';
/** `local`: the stack's storage service. `s3`: the local S3 server (src/servers/storage/s3Server.ts). */
export type StoreKind = 'local' | 's3';
const S3_BENCH = { bucket: 'bench', region: 'us-east-1', accessKeyId: 'BENCH', secretAccessKey: 'bench-secret' } as const;

export interface StorageBenchOptions {
  /** Timed seconds per client kind (after `warmUpSeconds`). Default 2. */
  seconds?: number;
  /**
   * Untimed seconds first, per client kind. Default 5: undici's fetch needs seconds of traffic
   * before V8 has optimized it; measured cold, it runs at half its warm rate.
   */
  warmUpSeconds?: number;
  /** Concurrent uploaders. Default 50. */
  clients?: number;
  /** Bytes per blob. Default 10_240. */
  size?: number;
  client?: ClientKind;
  /** Default `local`. */
  store?: StoreKind;
}

export interface StorageBenchResult {
  store: StoreKind;
  client: ClientKind;
  clients: number;
  size: number;
  seconds: number;
  uploads: number;
  failures: number;
  uploadsPerSecond: number;
  megabytesPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** CPU seconds per wall second (1.0 = one core busy), of this process and of the service. */
  cpu: { client: number; server: number };
  /** CPU ms spent per upload, by this process and by the service. */
  cpuMsPerUpload: { client: number; server: number };
  /** The storage service's own counters (not kept by the S3 server). */
  server: StorageServiceStats | undefined;
}

type ServerMessage = { type: 'ready'; url: string } | { type: 'stats'; stats: StorageServiceStats | undefined };

async function serve(maxUploadBytes: number, store: StoreKind): Promise<void> {
  const storage =
    store === 's3'
      ? await startS3Server(S3_BENCH).then((s3) => ({ url: s3.endpoint, stop: s3.stop, stats: () => undefined }))
      : await startStorageService({ port: 0, maxUploadBytes });
  const stop = async () => {
    await storage.stop().catch(() => undefined);
    process.exit(0);
  };
  process.on('disconnect', () => void stop());
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stats') process.send?.({ type: 'stats', stats: storage.stats() } satisfies ServerMessage);
  });
  process.send?.({ type: 'ready', url: storage.url } satisfies ServerMessage);
}


function putWithAgent(agent: Agent, url: URL, body: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', agent, headers: { 'content-type': 'application/octet-stream', 'content-length': body.byteLength } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Runs one warm-up and one timed phase of one client kind against the service at `url`. */
async function runPhase(
  url: string,
  serverPid: number,
  child: ChildProcess,
  { seconds = 2, warmUpSeconds = 5, clients = 50, size = 10_240, client = 'provider', store = 'local' }: StorageBenchOptions,
): Promise<StorageBenchResult> {
  const provider: StorageProvider =
    store === 's3' ? createS3StorageProvider({ endpoint: url, ...S3_BENCH, timeoutMs: 10_000 }) : createLocalStorageProvider({ baseUrl: url, timeoutMs: 10_000 });
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  // Each blob is a random base with a counter in its first bytes: unique content (no dedup) at
  // the cost of one copy, not one randomBytes call, per upload.
  const base = randomBytes(size);
  let counter = 0;
  const nextBlob = (): Uint8Array => {
    const blob = Buffer.from(base);
    blob.writeUInt32BE(counter++ % 0x1_0000_0000, 0);
    blob.writeUInt32BE(process.pid, 4);
    return blob;
  };
  const upload = async (i: number): Promise<void> => {
    const blob = nextBlob();
    const name = `bench_${client}_${i < 0 ? `w${-i}` : i}.bin`;
    if (client === 'provider') {
      await provider.upload(blob, name);
      return;
    }
    const status = await putWithAgent(agent, new URL(`${url}/files/${name}`), blob);
    if (status !== 201) throw new Error(`status ${status}`);
  };

  // Warm-up, untimed: open the connections and let the JIT settle (cold, the rate says more
  // about V8 than about the service).
  const warmUntil = performance.now() + warmUpSeconds * 1_000;
  await Promise.all(
    Array.from({ length: clients }, async (_, worker) => {
      for (let i = 0; performance.now() < warmUntil; i++) await upload(-(worker * 1_000_000 + i + 1));
    }),
  );

  const latencies: number[] = [];
  let failures = 0;
  const serverCpu0 = (await pidusage(serverPid)).ctime;
  const clientCpu0 = process.cpuUsage();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, worker) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const t0 = performance.now();
        try {
          await upload(worker * 1_000_000 + i);
          latencies.push(performance.now() - t0);
        } catch {
          failures++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const clientCpu = process.cpuUsage(clientCpu0);
  const serverCpu = ((await pidusage(serverPid)).ctime - serverCpu0) / 1000;
  agent.destroy();
  child.send({ type: 'stats' });
  const { stats } = await nextMessage<ServerMessage, 'stats'>(child, 'stats', 5_000, 'storage server');
  latencies.sort((a, b) => a - b);
  return {
    store,
    client,
    clients,
    size,
    seconds: round(elapsed, 2),
    uploads: latencies.length,
    failures,
    uploadsPerSecond: Math.round(latencies.length / elapsed),
    megabytesPerSecond: round((latencies.length * size) / elapsed / 1_048_576),
    latencyMs: { p50: round(percentile(latencies, 50), 2), p95: round(percentile(latencies, 95), 2), p99: round(percentile(latencies, 99), 2), max: round(latencies.at(-1) ?? Number.NaN, 2) },
    cpu: { client: round((clientCpu.user + clientCpu.system) / 1e6 / elapsed, 2), server: round(serverCpu / elapsed, 2) },
    cpuMsPerUpload: {
      client: round((clientCpu.user + clientCpu.system) / 1e3 / latencies.length, 3),
      server: round((serverCpu * 1e3) / latencies.length, 3),
    },
    server: stats,
  };
}

/**
 * Forks the service, runs one phase per client kind, stops the service.
 *
 * @example
 * const [provider] = await runStorageBench({ seconds: 2, clients: 50, size: 10_240, kinds: ['provider'] });
 * console.log(provider.uploadsPerSecond);
 */
export async function runStorageBench(options: StorageBenchOptions & { kinds?: readonly ClientKind[] } = {}): Promise<StorageBenchResult[]> {
  const size = options.size ?? 10_240;
  const store = options.store ?? 'local';
  if (store === 's3' && (options.kinds ?? ['provider']).includes('http')) throw new Error('--client http talks to the local storage service only; use --client provider with --store s3');
  const child = fork(fileURLToPath(import.meta.url), ['--serve', String(Math.max(size, 1_048_576)), store], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const { url } = await nextMessage<ServerMessage, 'ready'>(child, 'ready', 30_000, 'storage server');
    const results: StorageBenchResult[] = [];
    for (const client of options.kinds ?? ['provider']) results.push(await runPhase(url, child.pid ?? 0, child, { ...options, client }));
    return results;
  } finally {
    child.disconnect();
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
  }
}

function report(r: StorageBenchResult): string {
  return [
    `${`${r.store} ${r.client}`.padEnd(14)} ${r.uploadsPerSecond} uploads/s (${r.megabytesPerSecond} MiB/s) of ${r.size}-byte blobs, ${r.clients} clients, ${r.seconds} s, ${r.uploads} uploads, ${r.failures} failures`,
    `               latency ms p50 ${r.latencyMs.p50} p95 ${r.latencyMs.p95} p99 ${r.latencyMs.p99} max ${r.latencyMs.max}; CPU cores busy: client ${r.cpu.client}, server ${r.cpu.server} (ms per upload: client ${r.cpuMsPerUpload.client}, server ${r.cpuMsPerUpload.server})${r.server ? `; server holds ${r.server.files} blobs, ${round(r.server.bytes / 1_048_576)} MiB` : ''}`,
  ].join('\n');
}

function parseArgs(argv: readonly string[]) {
  const value = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (name: string, fallback: number, max: number) => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n <= 0 || n > max) {
      process.stderr.write(`Expected --${name} to be an integer in 1..${max}, got ${raw}\n`);
      process.exit(2);
    }
    return n;
  };
  const store = value('store') ?? 'local';
  if (store !== 'local' && store !== 's3') {
    process.stderr.write(`Expected --store to be local or s3, got ${store}\n`);
    process.exit(2);
  }
  const kinds = (value('client') ?? 'provider').split(',');
  if (kinds.length === 0 || !kinds.every((k) => k === 'provider' || k === 'http')) {
    process.stderr.write(`Expected --client to be provider, http, or both in the order to run them (provider,http), got ${value('client')}\n`);
    process.exit(2);
  }
  return {
    seconds: int('seconds', 2, 600),
    warmUpSeconds: int('warm-up', 5, 600),
    clients: int('clients', 50, 10_000),
    size: int('size', 10_240, 100 * 1_048_576),
    kinds: kinds as ClientKind[],
    store: store as StoreKind,
    json: argv.includes('--json'),
  };
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === '--serve') {
    await serve(Number(argv[1]), argv[2] === 's3' ? 's3' : 'local');
    return;
  }
  const args = parseArgs(argv);
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  process.stdout.write(
    [
      `storage bench ${new Date().toISOString()}`,
      `  command: npx tsx scripts/bench-storage.ts ${argv.join(' ')}`.trimEnd(),
      `  machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), load average at start ${load}; shared with other work, so figures are a floor`,
      '',
    ].join('\n'),
  );
  const results = await runStorageBench(args);
  for (const result of results) process.stdout.write(`${report(result)}\n`);
  if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  process.exitCode = results.some((r) => r.failures > 0) ? 1 : 0;
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && realpathSync(invokedPath) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(3);
  });
}
