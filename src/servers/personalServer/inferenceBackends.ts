/**
 * Inference backends of the local personal server (ARCHITECTURE.md 3). An operation hands its
 * decrypted files to one of them after the 202; whatever they return becomes the operation's
 * `result`, and every result carries the sha256 of the plaintext so the client can prove the
 * server decrypted exactly its bytes.
 *
 * - `sim`: a deterministic analysis of the plaintext, after a lognormal latency, with injected
 *   failures (operation ends `failed`) and injected 429s (refused at `POST /operations`).
 * - `openai`: any OpenAI-compatible `POST {baseUrl}/v1/chat/completions` endpoint.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ConfigError } from '../../errors.ts';
import type { LocalInferenceResult } from '../../protocol/personalServerApi.ts';
import { createLognormalSampler, type LatencyPercentiles } from './lognormalSampler.ts';
import { createSeededRandom } from '../../util/seededRandom.ts';

/** Backend configuration, as `startPersonalServer` takes it. */
export type PersonalServerBackend =
  | {
      kind: 'sim';
      /** Lognormal fitted to these; `{ p50Ms: 0, p95Ms: 0 }` = no latency. */
      latency: LatencyPercentiles;
      /** Share of operations that end `failed`, 0..1. */
      failureRate: number;
      /** Share of `POST /operations` answered 429 + Retry-After, 0..1. Default 0. */
      rateLimited429Rate?: number;
      /** Seed for latency and injected errors; random when absent. */
      seed?: number;
    }
  | {
      kind: 'openai';
      /** Without `/v1`: the backend posts to `{baseUrl}/v1/chat/completions`. */
      baseUrl: string;
      apiKey?: string;
      model: string;
      timeoutMs: number;
    };

/** One decrypted file of a permission. */
export interface DecryptedFile {
  fileId: bigint;
  bytes: Uint8Array;
  /** Lowercase hex sha256 of `bytes`. */
  sha256: string;
}

export interface InferenceInput {
  /** The grant's `operation`, e.g. `llm_inference`. */
  operation: string;
  /** The grant's `parameters.prompt`; `{{data}}` marks where the data goes. */
  prompt: string;
  responseFormat?: { type: string };
  /** In the permission's `fileIds` order; never empty. */
  files: readonly DecryptedFile[];
}

export type InferenceOutcome = { status: 'succeeded' | 'failed'; result: string };

export interface InferenceBackend {
  readonly kind: PersonalServerBackend['kind'];
  /** Asked once per `POST /operations` before any work: refuse with a 429 or admit. */
  admit(): { admitted: true } | { admitted: false; retryAfterSeconds: number };
  /** Runs the inference. Rejects only when `signal` aborts (the operation was cancelled). */
  run(input: InferenceInput, signal: AbortSignal): Promise<InferenceOutcome>;
}

/** Top-level keys listed in a sim result; more would only bloat every poll response. */
const MAX_LISTED_KEYS = 50;
/** Upstream error text kept in a failed result. */
const MAX_ERROR_EXCERPT = 300;

function checkRate(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && value <= 1)) {
    throw new ConfigError(`Expected ${name} between 0 and 1, got ${value}`, { code: 'PERSONAL_SERVER_BACKEND_INVALID' });
  }
}

function analyse(bytes: Uint8Array): LocalInferenceResult['analysis'] {
  const text = new TextDecoder().decode(bytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { format: 'text', line_count: text.length === 0 ? 0 : text.split('\n').length };
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const keys = Object.keys(parsed);
    return { format: 'json', top_level_type: 'object', key_count: keys.length, top_level_keys: keys.slice(0, MAX_LISTED_KEYS) };
  }
  const type = Array.isArray(parsed) ? 'array' : parsed === null ? 'null' : typeof parsed;
  return { format: 'json', top_level_type: type, key_count: Array.isArray(parsed) ? parsed.length : 0, top_level_keys: [] };
}

function fileSummaries(files: readonly DecryptedFile[]): LocalInferenceResult['files'] {
  return files.map((f) => ({ file_id: f.fileId.toString(), plaintext_sha256: f.sha256, byte_count: f.bytes.byteLength }));
}

function createSimBackend(config: Extract<PersonalServerBackend, { kind: 'sim' }>): InferenceBackend {
  checkRate('failureRate', config.failureRate);
  checkRate('rateLimited429Rate', config.rateLimited429Rate);
  const random = createSeededRandom(config.seed ?? Math.floor(Math.random() * 2 ** 32));
  const latency = createLognormalSampler(config.latency, random);
  const rate429 = config.rateLimited429Rate ?? 0;

  return {
    kind: 'sim',
    admit() {
      if (rate429 > 0 && random() < rate429) return { admitted: false, retryAfterSeconds: 1 };
      return { admitted: true };
    },
    async run(input, signal) {
      const ms = latency();
      if (ms > 0) await sleep(ms, undefined, { signal });
      signal.throwIfAborted();
      const first = input.files[0]!;
      if (config.failureRate > 0 && random() < config.failureRate) {
        return {
          status: 'failed',
          result: JSON.stringify({ error: 'simulated inference failure', error_code: 'COMPUTE_ERROR', backend: 'sim' }),
        };
      }
      const result: LocalInferenceResult = {
        backend: 'sim',
        operation: input.operation,
        prompt: input.prompt,
        plaintext_sha256: first.sha256,
        byte_count: first.bytes.byteLength,
        analysis: analyse(first.bytes),
        files: fileSummaries(input.files),
      };
      return { status: 'succeeded', result: JSON.stringify(result) };
    },
  };
}

function createOpenAiBackend(config: Extract<PersonalServerBackend, { kind: 'openai' }>, logger: Logger): InferenceBackend {
  let endpoint: string;
  try {
    const base = new URL(config.baseUrl);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error(`unsupported protocol ${base.protocol}`);
    endpoint = `${config.baseUrl.replace(/\/+$/, '')}/v1/chat/completions`;
  } catch (cause) {
    throw new ConfigError(`Expected the openai backend baseUrl as an http(s) URL, got ${JSON.stringify(config.baseUrl)}`, {
      code: 'PERSONAL_SERVER_BACKEND_INVALID',
      cause,
    });
  }
  if (!config.model) throw new ConfigError('Expected a model name for the openai backend, got nothing', { code: 'PERSONAL_SERVER_BACKEND_INVALID' });
  if (!(config.timeoutMs > 0)) {
    throw new ConfigError(`Expected openai timeoutMs > 0, got ${config.timeoutMs}`, { code: 'PERSONAL_SERVER_BACKEND_INVALID' });
  }
  const log = logger.child({ backend: 'openai' });

  function failed(error: string, status?: number): InferenceOutcome {
    return { status: 'failed', result: JSON.stringify({ error, error_code: 'COMPUTE_ERROR', backend: 'openai', ...(status ? { status } : {}) }) };
  }

  return {
    kind: 'openai',
    admit: () => ({ admitted: true }),
    async run(input, signal) {
      const data = input.files.map((f) => new TextDecoder().decode(f.bytes)).join('\n\n');
      // A prompt without the placeholder still gets the data, after it, rather than none at all.
      const content = input.prompt.includes('{{data}}') ? input.prompt.replaceAll('{{data}}', data) : `${input.prompt}\n\n${data}`;
      const body = {
        model: config.model,
        messages: [{ role: 'user', content }],
        ...(input.responseFormat ? { response_format: input.responseFormat } : {}),
      };
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}) },
          body: JSON.stringify(body),
          signal: AbortSignal.any([signal, AbortSignal.timeout(config.timeoutMs)]),
        });
      } catch (err) {
        signal.throwIfAborted();
        const timedOut = err instanceof Error && err.name === 'TimeoutError';
        const reason = timedOut ? `no answer within ${config.timeoutMs} ms` : err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
        log.warn({ endpoint, reason }, 'inference request failed');
        return failed(`POST ${endpoint} failed: ${reason}`);
      }
      const text = await response.text().catch(() => '');
      signal.throwIfAborted();
      if (!response.ok) {
        log.warn({ endpoint, status: response.status }, 'inference endpoint answered an error');
        return failed(`POST ${endpoint} answered ${response.status}: ${text.slice(0, MAX_ERROR_EXCERPT)}`, response.status);
      }
      let output: unknown;
      let usage: unknown;
      try {
        const parsed = JSON.parse(text) as { choices?: Array<{ message?: { content?: unknown } }>; usage?: unknown };
        output = parsed.choices?.[0]?.message?.content;
        usage = parsed.usage;
      } catch {
        output = undefined;
      }
      if (typeof output !== 'string') {
        return failed(`POST ${endpoint} answered 200 without choices[0].message.content: ${text.slice(0, MAX_ERROR_EXCERPT)}`);
      }
      const first = input.files[0]!;
      const result: LocalInferenceResult = {
        backend: 'openai',
        operation: input.operation,
        model: config.model,
        output,
        plaintext_sha256: first.sha256,
        byte_count: first.bytes.byteLength,
        files: fileSummaries(input.files),
        ...(usage !== undefined ? { usage } : {}),
      };
      return { status: 'succeeded', result: JSON.stringify(result) };
    },
  };
}

/**
 * Builds the backend an operation's inference runs on. Throws a `ConfigError` for an invalid
 * configuration (rates outside 0..1, bad percentiles, bad URL).
 *
 * @example
 * const backend = createInferenceBackend({ kind: 'sim', latency: { p50Ms: 0, p95Ms: 0 }, failureRate: 0 }, logger);
 * const { status, result } = await backend.run(input, signal);
 */
export function createInferenceBackend(config: PersonalServerBackend, logger: Logger): InferenceBackend {
  return config.kind === 'sim' ? createSimBackend(config) : createOpenAiBackend(config, logger);
}
