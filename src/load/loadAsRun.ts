/**
 * The load a model runs, told in the config's own field names (`users`, `rate`, `maxInFlight`…):
 * what `summary.json` records as `config.load`, so it never describes a value the run did not use,
 * and what a milestone checks flags against (a load flag the model does not use is refused).
 */
import type { LoadModel } from './types.ts';

/** `config.load`-shaped description of a model; only the fields the model uses. */
export type LoadAsRun = Readonly<Record<string, string | number>>;

/**
 * @example
 * loadAsRun({ kind: 'poisson', rate: 20, users: 1000, maxInFlight: 200 }, 7);
 * // { model: 'poisson', rate: 20, users: 1000, maxInFlight: 200, seed: 7 }
 */
export function loadAsRun(model: LoadModel, seed?: number): LoadAsRun {
  const withSeed = (fields: Record<string, string | number | undefined>): LoadAsRun => {
    const out: Record<string, string | number> = {};
    for (const [key, value] of Object.entries({ ...fields, ...(seed !== undefined ? { seed } : {}) })) if (value !== undefined) out[key] = value;
    return out;
  };
  switch (model.kind) {
    case 'closed':
      return withSeed({
        model: 'closed',
        users: model.users,
        concurrency: model.users,
        iterations: model.iterations ?? 1,
        durationMs: model.durationMs,
        staggerStartMs: model.staggerMs === undefined ? undefined : model.staggerMs * model.users,
      });
    case 'poisson':
      return withSeed({ model: 'poisson', rate: model.rate, users: model.users, durationMs: model.durationMs, maxInFlight: model.maxInFlight, seed: model.seed });
    case 'batched':
      return withSeed({ model: 'batched', users: model.users, batchSize: model.batchSize, delayMs: model.delayMs });
    case 'phased': {
      const byName = new Map(model.phases.map((p) => [p.name, p]));
      const peak = Math.max(0, ...model.phases.map((p) => Math.max(p.from, p.to)));
      const rate = model.phases.some((p) => p.unit === 'rate');
      return withSeed({
        model: 'phased',
        users: model.totalUsers,
        [rate ? 'rate' : 'concurrency']: peak,
        rampUpMs: byName.get('ramp_up')?.durationMs ?? 0,
        sustainMs: byName.get('sustain')?.durationMs ?? 0,
        rampDownMs: byName.get('ramp_down')?.durationMs ?? 0,
        // Users phases are capped by their own peak; only arrivals have a separate in-flight cap.
        maxInFlight: rate ? model.maxInFlight : undefined,
      });
    }
  }
}
