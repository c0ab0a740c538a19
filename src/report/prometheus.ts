import { createServer, type ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FlowResult } from '../flow.ts';
import { ConfigError } from '../errors.ts';
import type { BreakerState } from '../load/circuitBreaker.ts';
import { createHealthMonitor } from '../metrics/generatorHealth.ts';
import { DEFAULT_HEALTH_LIMITS, HEALTH_CHECK_NAMES, type HealthLimits } from '../metrics/healthLimits.ts';
import type { TimeseriesSample } from '../metrics/types.ts';
import { createChainMetrics } from './prometheusChain.ts';

export interface StartPrometheusExporterParameters {
  /** 0 picks a free port; read the chosen one from `url`. */
  port: number;
  host?: string;
  /** Limits of the generator-health gauges; default the defaults. */
  healthLimits?: HealthLimits;
}

export interface PrometheusExporter {
  /** Where Prometheus scrapes, e.g. `http://127.0.0.1:9464/metrics`. */
  url: string;
  /** Gauges from one sampler tick, and dropped arrivals from its cumulative `dropped`. */
  update(sample: TimeseriesSample): void;
  /** Counters and histograms from one finished flow. */
  observeFlow(result: FlowResult): void;
  setBreaker(state: BreakerState): void;
  /** Closes the server and its open connections; safe to call twice. */
  stop(): Promise<void>;
}

const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half_open'];
/** Seconds, from a 1 ms crypto step to the 120 s e2e threshold of MS-03. */
export const DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 45, 60, 90, 120];

/**
 * Serves live run metrics in the Prometheus text format on `GET /metrics`, from a registry of its
 * own (never prom-client's global one). Metric names are listed in docs/prometheus.md.
 *
 * @example
 * const exporter = await startPrometheusExporter({ port: 9464 });
 * sampler.on('sample', exporter.update);
 * // ...
 * await exporter.stop();
 */
export async function startPrometheusExporter({ port, host = '127.0.0.1', healthLimits = DEFAULT_HEALTH_LIMITS }: StartPrometheusExporterParameters): Promise<PrometheusExporter> {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError(`Expected the Prometheus port to be an integer from 0 to 65535, got ${String(port)}`, { code: 'PROMETHEUS_PORT_INVALID' });
  }
  const metrics = createMetrics(healthLimits);
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== '/metrics') return reply(response, 404, 'text/plain; charset=utf-8', 'Not found: metrics are at /metrics\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      return reply(response, 405, 'text/plain; charset=utf-8', 'Method not allowed\n');
    }
    metrics.registry.metrics().then(
      (text) => reply(response, 200, metrics.registry.contentType, request.method === 'HEAD' ? '' : text),
      (err: unknown) => reply(response, 500, 'text/plain; charset=utf-8', `Could not collect metrics: ${String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause: NodeJS.ErrnoException) =>
      reject(
        new ConfigError(`Could not start the Prometheus exporter on ${host}:${port}: ${cause.code ?? cause.message}`, {
          code: 'PROMETHEUS_LISTEN_FAILED',
          metaMessages: [`host: ${host}`, `port: ${port}`, 'fix: pick another port, or 0 for any free one'],
          cause,
        }),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const boundPort = address !== null && typeof address === 'object' ? address.port : port;

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}/metrics`,
    update: (sample) => metrics.update(sample),
    observeFlow: (result) => metrics.observeFlow(result),
    setBreaker: (state) => metrics.setBreaker(state),
    stop: () =>
      (stopping ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      })),
  };
}

function reply(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  response.end(body);
}

function createMetrics(healthLimits: HealthLimits) {
  const registry = new Registry();
  const registers = [registry];
  const flows = new Counter({
    name: 'vana_load_flows_total',
    help: 'Flows by outcome: succeeded and failed when they finish, dropped when an open model could not start them.',
    labelNames: ['status'] as const,
    registers,
  });
  for (const status of ['succeeded', 'failed', 'dropped']) flows.inc({ status }, 0);
  const inFlight = new Gauge({ name: 'vana_load_flows_in_flight', help: 'Flows started and not yet finished.', registers });
  const stepDuration = new Histogram({
    name: 'vana_load_step_duration_seconds',
    help: 'Duration of each flow step; a failed step counts its time until failure.',
    labelNames: ['step'] as const,
    buckets: DURATION_BUCKETS_SECONDS,
    registers,
  });
  const flowDuration = new Histogram({
    name: 'vana_load_flow_duration_seconds',
    help: 'End-to-end flow duration from its scheduled start (no coordinated omission), failed flows included.',
    buckets: DURATION_BUCKETS_SECONDS,
    registers,
  });
  const stepErrors = new Counter({
    name: 'vana_load_step_errors_total',
    help: 'Flow failures by the step they failed in and the error class.',
    labelNames: ['step', 'class'] as const,
    registers,
  });
  const arrivalTarget = new Gauge({ name: 'vana_load_arrival_rate_target', help: 'Arrival rate the open load model aims for, in flows per second.', registers });
  const arrivalRate = new Gauge({ name: 'vana_load_arrival_rate', help: 'Flows started per second over the last sampler interval.', registers });
  const schedulerLag = new Gauge({ name: 'vana_load_scheduler_lag_seconds', help: 'How late the scheduler started the last arrivals.', registers });
  const breaker = new Gauge({
    name: 'vana_load_circuit_breaker_state',
    help: 'Circuit breaker state: 1 for the current state, 0 for the others.',
    labelNames: ['state'] as const,
    registers,
  });
  const cpu = new Gauge({
    name: 'vana_load_process_cpu_percent',
    help: 'CPU use per process over the last interval, in percent of one core.',
    labelNames: ['process'] as const,
    registers,
  });
  const rss = new Gauge({
    name: 'vana_load_process_resident_memory_bytes',
    help: 'Resident memory per process.',
    labelNames: ['process'] as const,
    registers,
  });
  const eventLoopLag = new Gauge({ name: 'vana_load_event_loop_lag_seconds', help: "Maximum event-loop lag of the harness over the last interval.", registers });
  const chain = createChainMetrics(registry);
  const generatorHealthy = new Gauge({
    name: 'vana_load_generator_healthy',
    help: 'Generator health of the run so far: 1 when every check of the load generator is within its limit, 0 when one has gone over (the run will end INVALID).',
    registers,
  });
  const generatorCheck = new Gauge({
    name: 'vana_load_generator_check_ok',
    help: 'Each generator-health check over the run so far (harness CPU: its worst 10 s window): 1 within its limit or not judged yet, 0 over.',
    labelNames: ['check'] as const,
    registers,
  });
  const health = createHealthMonitor(healthLimits);

  const setBreaker = (state: BreakerState): void => {
    for (const s of BREAKER_STATES) breaker.set({ state: s }, s === state ? 1 : 0);
  };
  let droppedSoFar = 0;
  return {
    registry,
    setBreaker,
    update(sample: TimeseriesSample): void {
      inFlight.set(sample.inFlight);
      arrivalRate.set(sample.startedPerS);
      if (sample.targetRate !== undefined) arrivalTarget.set(sample.targetRate);
      if (sample.schedulerLagMs !== undefined) schedulerLag.set(sample.schedulerLagMs / 1000);
      if (sample.breaker !== undefined) setBreaker(sample.breaker);
      eventLoopLag.set(sample.eventLoopLagMs.max / 1000);
      const judged = health.observe(sample);
      generatorHealthy.set(judged.healthy ? 1 : 0);
      for (const check of HEALTH_CHECK_NAMES) generatorCheck.set({ check }, judged.checks[check].ok ? 1 : 0);
      // A process that is gone (a restarted stack) must not linger with its last value.
      cpu.reset();
      rss.reset();
      for (const p of sample.processes) {
        cpu.set({ process: p.name }, p.cpuPercent);
        rss.set({ process: p.name }, p.rssBytes);
      }
      chain.update(sample);
      if (sample.dropped > droppedSoFar) flows.inc({ status: 'dropped' }, sample.dropped - droppedSoFar);
      droppedSoFar = Math.max(droppedSoFar, sample.dropped);
    },
    observeFlow(result: FlowResult): void {
      flows.inc({ status: result.success ? 'succeeded' : 'failed' });
      flowDuration.observe(result.e2eMs / 1000);
      for (const [step, ms] of Object.entries(result.steps)) {
        if (ms !== undefined) stepDuration.observe({ step }, ms / 1000);
      }
      if (result.error !== undefined) stepErrors.inc({ step: result.error.step, class: result.error.errorClass });
    },
  };
}
