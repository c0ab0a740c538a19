import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../logger.ts';
import { createInferenceBackend, type InferenceInput } from './inferenceBackends.ts';

const plaintext = new TextEncoder().encode('{"name":"Ada","likes":["tea","maths"],"age":36}');
const input: InferenceInput = {
  operation: 'llm_inference',
  prompt: 'Summarize: {{data}}',
  responseFormat: { type: 'json_object' },
  files: [{ fileId: 7n, bytes: plaintext, sha256: createHash('sha256').update(plaintext).digest('hex') }],
};
const logger = silentLogger();

describe('sim backend', () => {
  it('returns a deterministic analysis carrying the plaintext sha256', async () => {
    const backend = createInferenceBackend({ kind: 'sim', latency: { p50Ms: 0, p95Ms: 0 }, failureRate: 0 }, logger);
    const outcome = await backend.run(input, new AbortController().signal);
    expect(outcome.status).toBe('succeeded');
    expect(JSON.parse(outcome.result)).toEqual({
      backend: 'sim',
      operation: 'llm_inference',
      prompt: 'Summarize: {{data}}',
      plaintext_sha256: 'dc3f74583e02157f07de8bc7431b7f1e25fda003a63b84fa7ff204812137cc32',
      byte_count: 47,
      analysis: { format: 'json', top_level_type: 'object', key_count: 3, top_level_keys: ['name', 'likes', 'age'] },
      files: [{ file_id: '7', plaintext_sha256: 'dc3f74583e02157f07de8bc7431b7f1e25fda003a63b84fa7ff204812137cc32', byte_count: 47 }],
    });
  });

  it('describes non-JSON plaintext by its line count', async () => {
    const bytes = new TextEncoder().encode('a\nb\nc');
    const backend = createInferenceBackend({ kind: 'sim', latency: { p50Ms: 0, p95Ms: 0 }, failureRate: 0 }, logger);
    const outcome = await backend.run({ ...input, files: [{ fileId: 1n, bytes, sha256: 'x' }] }, new AbortController().signal);
    expect(JSON.parse(outcome.result).analysis).toEqual({ format: 'text', line_count: 3 });
  });

  it('ends every operation failed at failureRate 1', async () => {
    const backend = createInferenceBackend({ kind: 'sim', latency: { p50Ms: 0, p95Ms: 0 }, failureRate: 1, seed: 1 }, logger);
    expect(await backend.run(input, new AbortController().signal)).toEqual({
      status: 'failed',
      result: '{"error":"simulated inference failure","error_code":"COMPUTE_ERROR","backend":"sim"}',
    });
  });

  it('refuses every admission at rateLimited429Rate 1 and none at 0', () => {
    const always = createInferenceBackend({ kind: 'sim', latency: { p50Ms: 0, p95Ms: 0 }, failureRate: 0, rateLimited429Rate: 1 }, logger);
    const never = createInferenceBackend({ kind: 'sim', latency: { p50Ms: 0, p95Ms: 0 }, failureRate: 0 }, logger);
    expect(always.admit()).toEqual({ admitted: false, retryAfterSeconds: 1 });
    expect(never.admit()).toEqual({ admitted: true });
  });

  it('waits the sampled latency and stops waiting when aborted', async () => {
    const backend = createInferenceBackend({ kind: 'sim', latency: { p50Ms: 60_000, p95Ms: 60_000 }, failureRate: 0 }, logger);
    const controller = new AbortController();
    const run = backend.run(input, controller.signal);
    setTimeout(() => controller.abort(new Error('cancelled')), 20);
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('error: rejects a failureRate above 1', () => {
    expect(() => createInferenceBackend({ kind: 'sim', latency: { p50Ms: 0, p95Ms: 0 }, failureRate: 1.5 }, logger)).toThrowErrorMatchingInlineSnapshot(`[ConfigError: Expected failureRate between 0 and 1, got 1.5]`);
  });
});

describe('openai backend', () => {
  let server: Server;
  let baseUrl: string;
  const seen: Array<{ url: string | undefined; authorization: string | undefined; body: unknown }> = [];
  // The fake's behaviour is picked by the model name, so one server covers every case.
  beforeAll(async () => {
    server = createServer(async (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: string };
      seen.push({ url: req.url, authorization: req.headers.authorization, body });
      if (body.model === 'broken') {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"overloaded"}');
      } else if (body.model === 'slow') {
        setTimeout(() => res.writeHead(200).end('{}'), 2_000).unref();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({ choices: [{ message: { role: 'assistant', content: '{"summary":"Ada likes tea"}' } }], usage: { total_tokens: 12 } }),
        );
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    baseUrl = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('posts the prompt with {{data}} replaced and returns the model output with the plaintext sha256', async () => {
    const backend = createInferenceBackend({ kind: 'openai', baseUrl: `${baseUrl}/`, apiKey: 'sk-test', model: 'tiny', timeoutMs: 5_000 }, logger);
    const outcome = await backend.run(input, new AbortController().signal);
    expect(seen.at(-1)).toEqual({
      url: '/v1/chat/completions',
      authorization: 'Bearer sk-test',
      body: {
        model: 'tiny',
        messages: [{ role: 'user', content: 'Summarize: {"name":"Ada","likes":["tea","maths"],"age":36}' }],
        response_format: { type: 'json_object' },
      },
    });
    expect(outcome.status).toBe('succeeded');
    expect(JSON.parse(outcome.result)).toEqual({
      backend: 'openai',
      operation: 'llm_inference',
      model: 'tiny',
      output: '{"summary":"Ada likes tea"}',
      plaintext_sha256: input.files[0]!.sha256,
      byte_count: 47,
      files: [{ file_id: '7', plaintext_sha256: input.files[0]!.sha256, byte_count: 47 }],
      usage: { total_tokens: 12 },
    });
  });

  it('error: ends failed with the upstream status when the endpoint answers 503', async () => {
    const backend = createInferenceBackend({ kind: 'openai', baseUrl, model: 'broken', timeoutMs: 5_000 }, logger);
    const outcome = await backend.run(input, new AbortController().signal);
    expect(outcome).toEqual({
      status: 'failed',
      result: JSON.stringify({
        error: `POST ${baseUrl}/v1/chat/completions answered 503: {"error":"overloaded"}`,
        error_code: 'COMPUTE_ERROR',
        backend: 'openai',
        status: 503,
      }),
    });
    expect(seen.at(-1)?.authorization).toBeUndefined();
  });

  it('error: ends failed when the endpoint does not answer within timeoutMs', async () => {
    const backend = createInferenceBackend({ kind: 'openai', baseUrl, model: 'slow', timeoutMs: 100 }, logger);
    const outcome = await backend.run(input, new AbortController().signal);
    expect(JSON.parse(outcome.result).error).toBe(`POST ${baseUrl}/v1/chat/completions failed: no answer within 100 ms`);
  });

  it('error: rejects a baseUrl that is not http(s)', () => {
    expect(() => createInferenceBackend({ kind: 'openai', baseUrl: 'ftp://x', model: 'm', timeoutMs: 1 }, logger)).toThrowErrorMatchingInlineSnapshot(`[ConfigError: Expected the openai backend baseUrl as an http(s) URL, got "ftp://x"]`);
  });
});
