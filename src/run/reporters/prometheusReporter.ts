/**
 * Live metrics for Prometheus as a reporter (`--prometheus-port`). prom-client is loaded only when
 * asked for: it is ~10 MB of harness RSS.
 */
import type { HealthLimits } from '../../metrics/healthLimits.ts';
import type { RunReporter } from '../runReporter.ts';

/**
 * @example
 * const prometheus = await startPrometheusReporter(9464, healthSettingsOf(config).limits); // serves http://127.0.0.1:9464/metrics
 */
export async function startPrometheusReporter(port: number, healthLimits?: HealthLimits): Promise<RunReporter & { url: string }> {
  const { startPrometheusExporter } = await import('../../report/prometheus.ts');
  const exporter = await startPrometheusExporter({ port, ...(healthLimits ? { healthLimits } : {}) });
  return {
    url: exporter.url,
    onFlowFinished: (result) => exporter.observeFlow(result),
    onSample: (sample) => exporter.update(sample),
    onBreakerChange: (change) => exporter.setBreaker(change.to),
    close: () => exporter.stop().catch(() => {}),
  };
}
