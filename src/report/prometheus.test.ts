import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowResult } from '../flow.ts';
import { VanaLoadError } from '../errors.ts';
import { freePort } from '../util/freePort.ts';
import { withChainTimeline } from '../../test/fixtures/chainFixture.ts';
import { exampleRun } from '../../test/fixtures/htmlFixture.ts';
import type { GeneratorSample } from '../metrics/types.ts';
import { startPrometheusExporter, type PrometheusExporter } from './prometheus.ts';

/** `name{a="1",b="2"}` → value, labels sorted so the key does not depend on print order. */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels = (match[2] ?? '').split(/,(?=\w+=")/).filter((l) => l !== '').sort();
    values.set(labels.length === 0 ? match[1]! : `${match[1]}{${labels.join(',')}}`, Number(match[3]));
  }
  return values;
}

async function scrape(exporter: PrometheusExporter): Promise<{ contentType: string | null; metrics: Map<string, number>; help: string[] }> {
  const response = await fetch(exporter.url);
  expect(response.status).toBe(200);
  const text = await response.text();
  const help = text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.slice('# TYPE '.length));
  return { contentType: response.headers.get('content-type'), metrics: parseMetrics(text), help };
}

function flow(overrides: Partial<FlowResult>): FlowResult {
  return {
    flowId: 0,
    userIndex: 0,
    userAddress: '0x000000000000000000000000000000000000bEEF',
    testId: 't',
    dataSize: 'small',
    dataBytes: 1024,
    scheduledAt: 0,
    startedAt: 0,
    endedAt: 12_000,
    success: true,
    steps: { encrypt: 3, relay: 400, inference_wait: 7_000 },
    e2eMs: 12_000,
    retries: 0,
    ...overrides,
  };
}

const portIsFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

describe('startPrometheusExporter', () => {
  const started: PrometheusExporter[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((e) => e.stop()));
  });

  it('serves the run metrics on GET /metrics and they move between two scrapes', async () => {
    const port = await freePort();
    const exporter = await startPrometheusExporter({ port });
    started.push(exporter);
    expect(exporter.url).toBe(`http://127.0.0.1:${port}/metrics`);
    const { samples } = exampleRun({ sampleCount: 40 });

    exporter.update({ ...samples[9]!, dropped: 2 });
    exporter.observeFlow(flow({}));
    exporter.observeFlow(
      flow({ success: false, e2eMs: 400, steps: { encrypt: 2, relay: 350 }, error: { step: 'relay', errorClass: 'nonce', code: 'X', message: 'nonce too low' } }),
    );
    const first = await scrape(exporter);
    expect(first.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(first.help).toEqual([
      'vana_load_flows_total counter',
      'vana_load_flows_in_flight gauge',
      'vana_load_step_duration_seconds histogram',
      'vana_load_flow_duration_seconds histogram',
      'vana_load_step_errors_total counter',
      'vana_load_arrival_rate_target gauge',
      'vana_load_arrival_rate gauge',
      'vana_load_scheduler_lag_seconds gauge',
      'vana_load_circuit_breaker_state gauge',
      'vana_load_process_cpu_percent gauge',
      'vana_load_process_resident_memory_bytes gauge',
      'vana_load_event_loop_lag_seconds gauge',
      'vana_load_chain_head_block gauge',
      'vana_load_chain_blocks_total counter',
      'vana_load_chain_transactions_total counter',
      'vana_load_chain_block_fill_ratio gauge',
      'vana_load_chain_base_fee_gwei gauge',
      'vana_load_tx_accept_p95_seconds gauge',
      'vana_load_tx_inclusion_p95_seconds gauge',
      'vana_load_relayer_transactions gauge',
      'vana_load_personal_server_operations gauge',
      'vana_load_generator_healthy gauge',
      'vana_load_generator_check_ok gauge',
    ]);
    const m = first.metrics;
    const pick = (...keys: string[]) => keys.map((k) => m.get(k));
    expect(pick('vana_load_flows_total{status="succeeded"}', 'vana_load_flows_total{status="failed"}', 'vana_load_flows_total{status="dropped"}')).toEqual([1, 1, 2]);
    expect(pick('vana_load_flows_in_flight', 'vana_load_arrival_rate', 'vana_load_arrival_rate_target')).toEqual([samples[9]!.inFlight, samples[9]!.startedPerS, 1.25]);
    expect(pick('vana_load_step_errors_total{class="nonce",step="relay"}')).toEqual([1]);
    expect(
      pick(
        'vana_load_step_duration_seconds_count{step="relay"}',
        'vana_load_step_duration_seconds_sum{step="relay"}',
        'vana_load_step_duration_seconds_bucket{le="0.25",step="relay"}',
        'vana_load_step_duration_seconds_bucket{le="0.5",step="relay"}',
        'vana_load_step_duration_seconds_bucket{le="+Inf",step="inference_wait"}',
      ),
    ).toEqual([2, 0.75, 0, 2, 1]);
    expect(pick('vana_load_flow_duration_seconds_count', 'vana_load_flow_duration_seconds_bucket{le="10"}', 'vana_load_flow_duration_seconds_bucket{le="15"}')).toEqual([2, 1, 2]);
    expect(pick('vana_load_circuit_breaker_state{state="closed"}', 'vana_load_circuit_breaker_state{state="open"}', 'vana_load_circuit_breaker_state{state="half_open"}')).toEqual([1, 0, 0]);
    expect(pick('vana_load_process_resident_memory_bytes{process="anvil"}')).toEqual([samples[9]!.processes[2]!.rssBytes]);
    expect(pick('vana_load_process_cpu_percent{process="stack"}')).toEqual([samples[9]!.processes[1]!.cpuPercent]);
    expect(pick('vana_load_event_loop_lag_seconds', 'vana_load_scheduler_lag_seconds')).toEqual([
      samples[9]!.eventLoopLagMs.max / 1000,
      samples[9]!.schedulerLagMs! / 1000,
    ]);
    expect(pick('vana_load_generator_healthy', 'vana_load_generator_check_ok{check="event_loop_lag.max"}', 'vana_load_generator_check_ok{check="harness_cpu"}')).toEqual([1, 1, 1]);

    const later = samples[39]!;
    // One 3.5 s stall of the harness's event loop among 200 prompt ticks: over the 3 s max, within the p99 limit.
    const stalled: GeneratorSample = { cpuPercent: 40, eventLoopLag: { max: 3_500, buckets: [[1, 200], [3_500, 1]] } };
    exporter.update({ ...later, dropped: 5, processes: later.processes.filter((p) => p.name !== 'anvil'), eventLoopLagMs: { mean: 50, max: 3_500 }, generator: stalled });
    exporter.observeFlow(flow({}));
    exporter.setBreaker('half_open');
    const second = (await scrape(exporter)).metrics;
    expect([
      second.get('vana_load_flows_total{status="succeeded"}'),
      second.get('vana_load_flows_total{status="dropped"}'),
      second.get('vana_load_flows_in_flight'),
      second.get('vana_load_arrival_rate_target'),
      second.get('vana_load_flow_duration_seconds_count'),
      second.get('vana_load_circuit_breaker_state{state="closed"}'),
      second.get('vana_load_circuit_breaker_state{state="half_open"}'),
      second.has('vana_load_process_cpu_percent{process="anvil"}'),
      second.get('vana_load_process_cpu_percent{process="harness"}'),
      second.get('vana_load_generator_healthy'),
      second.get('vana_load_generator_check_ok{check="event_loop_lag.max"}'),
      second.get('vana_load_generator_check_ok{check="event_loop_lag.p99"}'),
      second.get('vana_load_generator_check_ok{check="harness_cpu"}'),
    ]).toEqual([2, 5, later.inFlight, 2.5, 3, 0, 1, false, later.processes[0]!.cpuPercent, 0, 0, 1, 1]);
    expect(later.inFlight).not.toBe(samples[9]!.inFlight);
  });

  it('exports the chain timeline: head, fill, base fee, accept and inclusion p95, our relayers and the personal server queue', async () => {
    const exporter = await startPrometheusExporter({ port: 0 });
    started.push(exporter);
    const before = (await scrape(exporter)).metrics;
    // Not measured yet: absent, not 0.
    expect([before.has('vana_load_chain_base_fee_gwei'), before.has('vana_load_relayer_transactions{state="pending"}'), before.get('vana_load_chain_blocks_total')]).toEqual([false, false, 0]);
    const { samples } = withChainTimeline(exampleRun({ sampleCount: 30 }));
    for (const sample of samples.slice(0, 22)) exporter.update(sample);
    const m = (await scrape(exporter)).metrics;
    const last = samples[21]!;
    expect([
      m.get('vana_load_chain_head_block'),
      m.get('vana_load_chain_blocks_total'),
      m.get('vana_load_chain_transactions_total'),
      m.get('vana_load_chain_block_fill_ratio{stat="mean"}'),
      m.get('vana_load_chain_base_fee_gwei'),
      m.get('vana_load_tx_accept_p95_seconds'),
      m.get('vana_load_tx_inclusion_p95_seconds'),
      m.get('vana_load_relayer_transactions{state="pending"}'),
      m.get('vana_load_relayer_transactions{state="nonce_gap"}'),
      m.get('vana_load_personal_server_operations{state="running"}'),
    ]).toEqual([
      last.chain!.head,
      11,
      samples.slice(0, 22).reduce((sum, s) => sum + s.chain!.txs, 0),
      last.chain!.fill,
      last.chain!.baseFeeGwei,
      last.chain!.acceptP95Ms! / 1000,
      last.chain!.inclusionP95Ms! / 1000,
      last.relayers!.pending,
      last.relayers!.nonceGap,
      last.personalServer!.running,
    ]);
  });

  it('answers 404 off /metrics, 405 to a POST, and frees its port on stop', async () => {
    const exporter = await startPrometheusExporter({ port: 0 });
    const base = new URL(exporter.url);
    expect((await fetch(new URL('/', base))).status).toBe(404);
    expect((await fetch(new URL('/metrics/extra', base))).status).toBe(404);
    expect((await fetch(exporter.url, { method: 'POST' })).status).toBe(405);
    expect(await portIsFree(Number(base.port))).toBe(false);
    await exporter.stop();
    await exporter.stop();
    expect(await portIsFree(Number(base.port))).toBe(true);
  });

  it('keeps a registry of its own: two exporters in one process do not share counters', async () => {
    const a = await startPrometheusExporter({ port: 0 });
    const b = await startPrometheusExporter({ port: 0 });
    started.push(a, b);
    a.observeFlow(flow({}));
    expect([
      (await scrape(a)).metrics.get('vana_load_flows_total{status="succeeded"}'),
      (await scrape(b)).metrics.get('vana_load_flows_total{status="succeeded"}'),
    ]).toEqual([1, 0]);
  });

  it('error: names the address when the port is taken', async () => {
    const first = await startPrometheusExporter({ port: 0 });
    started.push(first);
    const port = Number(new URL(first.url).port);
    const error = (await startPrometheusExporter({ port }).catch((err: unknown) => err)) as VanaLoadError;
    expect(error).toBeInstanceOf(VanaLoadError);
    expect([error.code, error.shortMessage]).toEqual([
      'PROMETHEUS_LISTEN_FAILED',
      `Could not start the Prometheus exporter on 127.0.0.1:${port}: EADDRINUSE`,
    ]);
  });

  it('error: refuses a port that is not an integer from 0 to 65535', async () => {
    const error = (await startPrometheusExporter({ port: 70_000 }).catch((err: unknown) => err)) as VanaLoadError;
    expect([error.code, error.shortMessage]).toEqual(['PROMETHEUS_PORT_INVALID', 'Expected the Prometheus port to be an integer from 0 to 65535, got 70000']);
  });
});
