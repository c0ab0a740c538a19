/**
 * Checks a load model at the door, before anything is scheduled, so a bad value fails fast with
 * "Expected X, got Y" instead of producing a silent empty or endless run.
 */
import { ConfigError } from '../errors.ts';
import type { LoadModel, LoadPhase } from './types.ts';

/**
 * Throws a `ConfigError` (code `LOAD_MODEL_INVALID`) naming the first bad field of `model`.
 *
 * @example
 * validateLoadModel({ kind: 'poisson', rate: 0, users: 10, maxInFlight: 5 });
 * // ConfigError: poisson.rate: Expected a finite number > 0, got 0
 */
export function validateLoadModel(model: LoadModel): void {
  switch (model.kind) {
    case 'closed':
      integer('closed.users', model.users, 1);
      if (model.iterations !== undefined) integer('closed.iterations', model.iterations, 0);
      if (model.durationMs !== undefined) positive('closed.durationMs', model.durationMs);
      if (model.staggerMs !== undefined) nonNegative('closed.staggerMs', model.staggerMs);
      if (model.firstUserIndex !== undefined) integer('closed.firstUserIndex', model.firstUserIndex, 0);
      if (model.iterations === 0 && model.durationMs === undefined) {
        fail('closed.durationMs', 'a duration when iterations is 0 (repeat until the duration ends)', 'none');
      }
      return;
    case 'phased':
      if (!Array.isArray(model.phases) || model.phases.length === 0) fail('phased.phases', 'at least one phase', 'none');
      model.phases.forEach((phase, index) => validatePhase(phase, index));
      if (model.phases.every((phase) => phase.durationMs === 0)) fail('phased.phases', 'a phase with a duration > 0', 'all 0');
      integer('phased.maxInFlight', model.maxInFlight, 1);
      if (model.totalUsers !== undefined) integer('phased.totalUsers', model.totalUsers, 0);
      return;
    case 'batched':
      integer('batched.users', model.users, 0);
      integer('batched.batchSize', model.batchSize, 1);
      nonNegative('batched.delayMs', model.delayMs);
      return;
    case 'poisson':
      positive('poisson.rate', model.rate);
      if (model.users !== undefined) integer('poisson.users', model.users, 0);
      if (model.durationMs !== undefined) positive('poisson.durationMs', model.durationMs);
      if (model.users === undefined && model.durationMs === undefined) fail('poisson.users', 'users or durationMs to end the arrivals', 'neither');
      integer('poisson.maxInFlight', model.maxInFlight, 1);
      if (model.seed !== undefined) integer('poisson.seed', model.seed, 0);
      return;
    default:
      fail('kind', "one of 'closed', 'phased', 'batched', 'poisson'", String((model as { kind: unknown }).kind));
  }
}

function validatePhase(phase: LoadPhase, index: number): void {
  const at = `phased.phases[${index}]`;
  if (typeof phase.name !== 'string' || phase.name.length === 0) fail(`${at}.name`, 'a non-empty name', JSON.stringify(phase.name));
  nonNegative(`${at}.durationMs`, phase.durationMs);
  nonNegative(`${at}.from`, phase.from);
  nonNegative(`${at}.to`, phase.to);
  if (phase.unit !== 'rate' && phase.unit !== 'users') fail(`${at}.unit`, "'rate' or 'users'", String(phase.unit));
}

function integer(field: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) fail(field, `an integer >= ${min}`, String(value));
}

function positive(field: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) fail(field, 'a finite number > 0', String(value));
}

function nonNegative(field: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) fail(field, 'a finite number >= 0', String(value));
}

function fail(field: string, expected: string, got: string): never {
  throw new ConfigError(`${field}: Expected ${expected}, got ${got}`, { code: 'LOAD_MODEL_INVALID' });
}
