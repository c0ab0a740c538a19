/**
 * What a load model implies, for the run's messages and planning: a one-line description, the
 * flows it starts at most, its peak arrival rate and its planned duration. Pure functions.
 */
import type { LoadModel } from './types.ts';

/** `closed · 25 users × 1 flow(s)`, `poisson · 20/s · 1000 users · max in flight 200`, … */
export function describeModel(model: LoadModel): string {
  switch (model.kind) {
    case 'closed':
      return `closed · ${model.users} users × ${model.iterations === 0 ? `flows for ${model.durationMs! / 1000}s` : `${model.iterations ?? 1} flow(s)`}`;
    case 'phased':
      return `phased · ${model.phases.map((p) => `${p.name} ${p.from}→${p.to} ${p.unit === 'rate' ? '/s' : 'users'} ${p.durationMs / 1000}s`).join(', ')}`;
    case 'batched':
      return `batched · ${model.users} users in batches of ${model.batchSize}, ${model.delayMs} ms apart`;
    case 'poisson':
      return `poisson · ${model.rate}/s${model.users !== undefined ? ` · ${model.users} users` : ''}${model.durationMs !== undefined ? ` · ≤ ${model.durationMs / 1000}s` : ''} · max in flight ${model.maxInFlight}`;
  }
}

/** Flows the model will start at most; undefined when only a duration bounds it. */
export function plannedFlows(model: LoadModel): number | undefined {
  switch (model.kind) {
    case 'closed':
      return model.iterations === 0 ? undefined : model.users * (model.iterations ?? 1);
    case 'batched':
      return model.users;
    case 'poisson':
      return model.users;
    case 'phased':
      return model.totalUsers;
  }
}

/** Flows expected: `plannedFlows`, or rate × duration for a time-bound Poisson model. */
export function expectedFlows(model: LoadModel): number | undefined {
  return plannedFlows(model) ?? (model.kind === 'poisson' && model.durationMs !== undefined ? Math.ceil((model.rate * model.durationMs) / 1000) : undefined);
}

/** Highest arrival rate of an open model, flows/s; undefined for closed and batched models. */
export function peakArrivalRate(model: LoadModel): number | undefined {
  if (model.kind === 'poisson') return model.rate;
  if (model.kind === 'phased') {
    const rates = model.phases.filter((p) => p.unit === 'rate').flatMap((p) => [p.from, p.to]);
    return rates.length > 0 ? Math.max(...rates) : undefined;
  }
  return undefined;
}

/** Seconds the schedule lasts when time bounds it; undefined otherwise. */
export function plannedDurationS(model: LoadModel): number | undefined {
  if (model.kind === 'phased') return model.phases.reduce((sum, p) => sum + p.durationMs, 0) / 1000;
  if (model.kind === 'poisson' && model.users === undefined && model.durationMs !== undefined) return model.durationMs / 1000;
  if (model.kind === 'closed' && model.iterations === 0 && model.durationMs !== undefined) return model.durationMs / 1000;
  return undefined;
}
