/**
 * What one finished flow tells Artillery, as a list of events for its scenario event emitter:
 * the metric names of src/report/artilleryMetrics.ts, recorded by the collector's rules (latency of
 * what succeeded, failures counted by step × error class, uploads and transactions by attempt).
 */
import { ARTILLERY_METRICS as M, artilleryErrorCode, errorMetric, STEP_NAMES, stepMetric, type FlowResult, type StepName } from './harness.ts';

export type ArtilleryMetricEvent =
  | { kind: 'histogram'; name: string; value: number }
  | { kind: 'counter'; name: string; value: number }
  | { kind: 'rate'; name: string }
  | { kind: 'error'; code: string };

/** Artillery's scenario event emitter, as far as the engine uses it. */
export interface ArtilleryEvents {
  emit(event: 'started'): boolean;
  emit(event: 'histogram' | 'counter', name: string, value: number): boolean;
  emit(event: 'rate', name: string): boolean;
  emit(event: 'error', code: string): boolean;
}

/**
 * The events of a finished flow, in emission order.
 *
 * @example
 * for (const event of flowMetricEvents(result)) emitMetricEvent(ee, event);
 */
export function flowMetricEvents(result: FlowResult): ArtilleryMetricEvent[] {
  const events: ArtilleryMetricEvent[] = [];
  const counter = (name: string, value = 1): void => void events.push({ kind: 'counter', name, value });
  const failedAt = result.success ? undefined : result.error?.step;
  for (const step of STEP_NAMES) {
    const ms = result.steps[step];
    if (ms !== undefined && step !== failedAt) events.push({ kind: 'histogram', name: stepMetric(step), value: ms });
  }
  if (result.success) events.push({ kind: 'histogram', name: M.e2e, value: result.e2eMs });
  counter(M.flowsCompleted);
  counter(M.flowsSucceeded, result.success ? 1 : 0);
  counter(M.flowsFailed, result.success ? 0 : 1);
  if (result.error) {
    counter(errorMetric(result.error.step, result.error.errorClass));
    events.push({ kind: 'error', code: artilleryErrorCode(result.error.step, result.error.errorClass, result.error.code) });
  }
  const reached = (step: StepName): boolean => result.steps[step] !== undefined || result.error?.step === step;
  const passed = (step: StepName): boolean => result.steps[step] !== undefined && step !== failedAt;
  for (const step of ['upload_data', 'upload_grant'] as const) {
    if (!reached(step)) continue;
    counter(M.uploadAttempts);
    counter(M.uploadSuccesses, passed(step) ? 1 : 0);
  }
  if (reached('relay') || reached('confirm')) {
    counter(M.txAttempts);
    counter(M.txSuccesses, passed('confirm') ? 1 : 0);
  }
  events.push({ kind: 'rate', name: 'vana.flow_rate' });
  return events;
}

/** Sends one event to Artillery. */
export function emitMetricEvent(ee: ArtilleryEvents, event: ArtilleryMetricEvent): void {
  switch (event.kind) {
    case 'histogram':
    case 'counter':
      ee.emit(event.kind, event.name, event.value);
      return;
    case 'rate':
      ee.emit('rate', event.name);
      return;
    case 'error':
      ee.emit('error', event.code);
  }
}
