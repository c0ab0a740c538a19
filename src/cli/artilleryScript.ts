/**
 * The Artillery script `vana-load artillery init` writes: phases from a milestone's load model or
 * from our load-model settings, in Artillery's vocabulary (`arrivalRate`, `rampTo`,
 * `arrivalCount`, `maxVusers`, `mode: poisson`), our thresholds as `ensure` conditions where
 * Artillery can express them, and the vana engine with its `config.vana` settings.
 *
 * Artillery has open models only (each virtual user is one arrival that runs one flow): a closed
 * model of users running flows back to back has no equivalent, and is refused.
 */
import type { VanaLoadConfig } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import type { Threshold } from '../metrics/thresholds.ts';
import type { MilestoneId } from '../milestones/milestoneIds.ts';
import { ensureOfThresholds, type EnsureCondition } from '../report/artilleryThresholds.ts';

/** A phase as Artillery reads it (durations in seconds). */
export interface ArtilleryScriptPhase {
  name: string;
  duration?: number;
  pause?: number;
  arrivalRate?: number;
  rampTo?: number;
  arrivalCount?: number;
  maxVusers?: number;
}

export interface ArtilleryScript {
  config: {
    target: string;
    phases: ArtilleryScriptPhase[];
    /** Files uploaded with the script to Fargate/Lambda workers (the engine tarball of `init --bundle`). */
    includeFiles?: string[];
    mode?: 'poisson';
    engines: { vana: Record<string, never> };
    vana: Record<string, string | number | boolean>;
    /** Artillery 2.0.21 loads its ensure plugin only when listed here; the plugin reads the conditions from here too. */
    plugins?: { ensure: { conditions: EnsureCondition[] } };
  };
  scenarios: Array<{ name: string; engine: 'vana'; flow: [] }>;
}

/** The load model of the script, before it becomes phases. */
export type ArtilleryLoadPlan =
  | { kind: 'rate'; name: string; rate: number; durationS: number; maxVusers: number; poisson: boolean }
  | { kind: 'ramps'; phases: Array<{ name: string; from: number; to: number; durationS: number }>; maxVusers: number }
  | { kind: 'count'; name: string; count: number; durationS: number };

/** Load flags the milestones take; with `--milestone` only these change its model. */
export interface MilestoneLoadFlags {
  users?: number;
  rate?: number;
  durationS?: number;
  concurrency?: number;
  maxInFlight?: number;
  rampUpS?: number;
  sustainS?: number;
  rampDownS?: number;
}

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1_000));

/**
 * The plan of a milestone as its own script runs it by default, changed by the load flags given:
 * MS-03 starts `--concurrency` users at once (one flow each), MS-04 ramps an arrival rate
 * (`--rate` is required: its default concurrent-user ramp is a closed model), MS-05 is a Poisson
 * stream of `--users` arrivals at `--rate` per second.
 */
export function milestoneLoadPlan(milestone: MilestoneId, flags: MilestoneLoadFlags): ArtilleryLoadPlan {
  switch (milestone) {
    case 'ms-03':
      return { kind: 'count', name: 'ms-03', count: flags.concurrency ?? flags.users ?? 25, durationS: 1 };
    case 'ms-04': {
      if (flags.rate === undefined) {
        throw new ConfigError('MS-04 on Artillery needs --rate: its default pattern ramps concurrent users (a closed model), which Artillery cannot express', {
          code: 'ARTILLERY_MODEL_UNSUPPORTED',
          metaMessages: ['fix: --rate <per-second> ramps an arrival rate instead, as `test-load-patterns --rate` does'],
        });
      }
      const rate = flags.rate;
      return {
        kind: 'ramps',
        phases: [
          { name: 'ramp_up', from: 0, to: rate, durationS: flags.rampUpS ?? 5 },
          { name: 'sustain', from: rate, to: rate, durationS: flags.sustainS ?? 5 },
          { name: 'ramp_down', from: rate, to: 0, durationS: flags.rampDownS ?? 5 },
        ].filter((p) => p.durationS > 0),
        maxVusers: flags.maxInFlight ?? flags.concurrency ?? 20,
      };
    }
    case 'ms-05': {
      const rate = flags.rate ?? 2.5;
      const users = flags.users ?? 2_000;
      const durationS = Math.min(flags.durationS ?? Infinity, Math.ceil(users / rate));
      return { kind: 'rate', name: 'ms-05', rate, durationS, maxVusers: flags.maxInFlight ?? flags.concurrency ?? 200, poisson: true };
    }
    default:
      throw new ConfigError(`Expected --milestone ms-03, ms-04 or ms-05 (the load milestones), got ${milestone}`, { code: 'ARTILLERY_MODEL_UNSUPPORTED' });
  }
}

/** The plan of our load-model settings (`--load-model`, `--rate`, `--duration`, ...). */
export function configLoadPlan(load: Readonly<VanaLoadConfig['load']>): ArtilleryLoadPlan {
  switch (load.model) {
    case 'poisson':
      return { kind: 'rate', name: 'poisson', rate: load.rate, durationS: seconds(load.durationMs), maxVusers: load.maxInFlight, poisson: true };
    case 'phased':
      return {
        kind: 'ramps',
        phases: [
          { name: 'ramp_up', from: 0, to: load.rate, durationS: Math.ceil(load.rampUpMs / 1_000) },
          { name: 'sustain', from: load.rate, to: load.rate, durationS: Math.ceil(load.sustainMs / 1_000) },
          { name: 'ramp_down', from: load.rate, to: 0, durationS: Math.ceil(load.rampDownMs / 1_000) },
        ].filter((p) => p.durationS > 0),
        maxVusers: load.maxInFlight,
      };
    case 'closed':
      if (load.iterations !== 1) {
        throw new ConfigError(`The closed model with --iterations ${load.iterations} has no Artillery equivalent: an Artillery virtual user runs one flow`, {
          code: 'ARTILLERY_MODEL_UNSUPPORTED',
          metaMessages: ['fix: --load-model poisson --rate <per-second> (an open model), or --iterations 1 (every user starts once)'],
        });
      }
      return { kind: 'count', name: 'closed', count: load.users, durationS: seconds(Math.max(1_000, load.staggerStartMs)) };
  }
}

/** Artillery phases of a plan, after an optional warm-up pause. */
export function phasesOfPlan(plan: ArtilleryLoadPlan, warmupS: number): ArtilleryScriptPhase[] {
  const warmup: ArtilleryScriptPhase[] = warmupS > 0 ? [{ name: 'vana-warmup', pause: warmupS }] : [];
  switch (plan.kind) {
    case 'rate':
      return [...warmup, { name: plan.name, duration: plan.durationS, arrivalRate: plan.rate, maxVusers: plan.maxVusers }];
    case 'ramps':
      return [
        ...warmup,
        ...plan.phases.map((p) =>
          p.from === p.to
            ? { name: p.name, duration: p.durationS, arrivalRate: p.from, maxVusers: plan.maxVusers }
            : { name: p.name, duration: p.durationS, arrivalRate: p.from, rampTo: p.to, maxVusers: plan.maxVusers },
        ),
      ];
    case 'count':
      return [...warmup, { name: plan.name, duration: plan.durationS, arrivalCount: plan.count }];
  }
}

export interface BuildArtilleryScriptParameters {
  plan: ArtilleryLoadPlan;
  thresholds: readonly Threshold[];
  /** `config.vana`: engine keys and config flags without dashes. */
  vana: Record<string, string | number | boolean>;
  /** Seconds of pause before the first arrival, while workers load the engine and attach. */
  warmupS: number;
  includeFiles?: string[];
}

export interface BuiltArtilleryScript {
  script: ArtilleryScript;
  /** Thresholds only `vana-load report --from-artillery` judges, with why. */
  reportOnly: Array<{ expression: string; why: string }>;
  /** Things the user should know about the script (written as comments, printed). */
  notes: string[];
}

/**
 * @example
 * const { script } = buildArtilleryScript({ plan: milestoneLoadPlan('ms-05', {}), thresholds, vana: {}, warmupS: 15 });
 */
export function buildArtilleryScript({ plan, thresholds, vana, warmupS, includeFiles }: BuildArtilleryScriptParameters): BuiltArtilleryScript {
  const { conditions, reportOnly } = ensureOfThresholds(thresholds);
  const notes: string[] = [];
  if (plan.kind === 'rate' && !Number.isInteger(plan.rate)) {
    notes.push(
      `arrivalRate ${plan.rate} is fractional: Artillery's local work division (WORKERS > 1) accepts integer rates only; on Fargate/Lambda each worker runs this rate (total = --count × rate)`,
    );
  }
  if (conditions.some((c) => c.expression.startsWith('vana.flows.succeeded /'))) {
    notes.push("Artillery's success-rate check counts completed flows only; the report also counts arrivals skipped by maxVusers as failures");
  }
  const script: ArtilleryScript = {
    config: {
      target: 'vana',
      phases: phasesOfPlan(plan, warmupS),
      ...(includeFiles && includeFiles.length > 0 ? { includeFiles } : {}),
      ...(plan.kind === 'rate' && plan.poisson ? { mode: 'poisson' as const } : {}),
      engines: { vana: {} },
      vana,
      ...(conditions.length > 0 ? { plugins: { ensure: { conditions } } } : {}),
    },
    scenarios: [{ name: 'data-portability', engine: 'vana', flow: [] }],
  };
  return { script, reportOnly, notes };
}

type Yaml = string | number | boolean | null | readonly Yaml[] | { readonly [key: string]: Yaml | undefined };

/**
 * Block-style YAML of plain JSON data. Strings are written as JSON strings, which YAML reads as
 * double-quoted scalars, so no value can turn into another type.
 */
export function toYaml(value: Yaml, indent = ''): string {
  const scalar = (v: Yaml): string | undefined => {
    if (v === null) return 'null';
    if (typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (Array.isArray(v) && v.length === 0) return '[]';
    if (!Array.isArray(v) && typeof v === 'object' && Object.values(v).every((x) => x === undefined)) return '{}';
    return undefined;
  };
  const key = (k: string): string => (/^[A-Za-z_][\w.-]*$/.test(k) ? k : JSON.stringify(k));
  const lines: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value as readonly Yaml[]) {
      const s = scalar(item);
      if (s !== undefined) lines.push(`${indent}- ${s}`);
      else lines.push(`${indent}- ${toYaml(item, `${indent}  `).trimStart().replace(/\n$/, '')}`);
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      const s = scalar(v);
      if (s !== undefined) lines.push(`${indent}${key(k)}: ${s}`);
      else lines.push(`${indent}${key(k)}:`, toYaml(v, `${indent}  `).replace(/\n$/, ''));
    }
  } else {
    lines.push(`${indent}${scalar(value)}`);
  }
  return `${lines.join('\n')}\n`;
}
