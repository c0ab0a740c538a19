/**
 * Synthetic user data: a profile, activity logs, purchase history and preferences, generated
 * deterministically from a seed so a run can be reproduced byte for byte. Sizes follow the seed
 * plan: small ≈ 1 KB, medium ≈ 10 KB, large ≈ 100 KB of JSON.
 */
import type { DataSize } from '../flow.ts';
import { seedFromString } from '../util/seededRandom.ts';

export const DATA_SIZE_BYTES: Readonly<Record<DataSize, number>> = { small: 1_024, medium: 10_240, large: 102_400 };
export const DATA_SIZES: readonly DataSize[] = ['small', 'medium', 'large'];

export interface SyntheticUserData {
  profile: { userId: string; name: string; email: string; country: string; age: number; joined: string };
  activity: Array<{ at: string; action: string; page: string; durationS: number }>;
  purchases: Array<{ at: string; sku: string; category: string; amount: number; currency: string }>;
  preferences: { language: string; theme: string; notifications: boolean; interests: string[] };
}

/** mulberry32: small, fast, good enough for test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The seed of flow `flowId`'s synthetic data. With a run seed (`--seed` / `VANA_SEED`) it depends
 * on that seed and the flow only, so two runs with the same seed encrypt the same bytes for each
 * flow (what `vana-load compare` wants); without one, on the run's test id, so runs differ.
 *
 * @example
 * generateUserData(flowDataSeed(3, { seed: 7, testId: 'ms-03-ab12' }), 'small'); // same for every run with seed 7
 */
export function flowDataSeed(flowId: number, { seed, testId }: { seed?: number | undefined; testId: string }): number {
  return seedFromString(seed === undefined ? `${testId}:${flowId}` : `seed:${seed}:${flowId}`);
}


const FIRST = ['Ada', 'Bo', 'Chen', 'Dara', 'Eli', 'Fatima', 'Goran', 'Hana', 'Ines', 'Jon', 'Kemal', 'Lina'];
const LAST = ['Ng', 'Okafor', 'Park', 'Quinn', 'Rossi', 'Silva', 'Tanaka', 'Usman', 'Varga', 'Weber'];
const COUNTRIES = ['DE', 'US', 'BR', 'IN', 'JP', 'NG', 'FR', 'KR', 'MX', 'SE'];
const ACTIONS = ['view', 'click', 'search', 'share', 'like', 'comment', 'login', 'logout'];
const PAGES = ['/home', '/feed', '/profile', '/settings', '/shop', '/cart', '/search', '/messages'];
const CATEGORIES = ['books', 'music', 'games', 'food', 'travel', 'clothing', 'electronics'];
const INTERESTS = ['hiking', 'jazz', 'chess', 'cooking', 'film', 'cycling', 'photography', 'gardening', 'running'];

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}

function isoAt(random: () => number, base: number): string {
  return new Date(base - Math.floor(random() * 365 * 86_400_000)).toISOString();
}

/**
 * Generates one user's data. Same `seed` and `size` → same object, so the same bytes after
 * `JSON.stringify`. The JSON grows to just over the size's target bytes.
 */
export function generateUserData(seed: number, size: DataSize): SyntheticUserData {
  const random = prng(seed);
  const base = Date.UTC(2026, 0, 1);
  const first = pick(random, FIRST);
  const last = pick(random, LAST);
  const data: SyntheticUserData = {
    profile: {
      userId: `u_${seed.toString(16).padStart(8, '0')}`,
      name: `${first} ${last}`,
      email: `${first.toLowerCase()}.${last.toLowerCase()}${Math.floor(random() * 1000)}@example.com`,
      country: pick(random, COUNTRIES),
      age: 18 + Math.floor(random() * 60),
      joined: isoAt(random, base),
    },
    activity: [],
    purchases: [],
    preferences: {
      language: pick(random, ['en', 'de', 'pt', 'ja', 'fr']),
      theme: pick(random, ['light', 'dark', 'system']),
      notifications: random() < 0.5,
      interests: INTERESTS.filter(() => random() < 0.4),
    },
  };
  const target = DATA_SIZE_BYTES[size];
  // ~95 bytes per activity entry, ~100 per purchase: estimate instead of re-serializing each step.
  let bytes = JSON.stringify(data).length;
  while (bytes < target) {
    if (random() < 0.7) {
      const entry = { at: isoAt(random, base), action: pick(random, ACTIONS), page: pick(random, PAGES), durationS: Math.floor(random() * 600) };
      data.activity.push(entry);
      bytes += JSON.stringify(entry).length + 1;
    } else {
      const entry = {
        at: isoAt(random, base),
        sku: `SKU-${Math.floor(random() * 1e6).toString().padStart(6, '0')}`,
        category: pick(random, CATEGORIES),
        amount: Math.round(random() * 20_000) / 100,
        currency: 'USD',
      };
      data.purchases.push(entry);
      bytes += JSON.stringify(entry).length + 1;
    }
  }
  return data;
}

/** The data size of flow `flowId`: fixed, or with `mixed` a deterministic 60/30/10 spread of small/medium/large. */
export function dataSizeFor(flowId: number, choice: DataSize | 'mixed'): DataSize {
  if (choice !== 'mixed') return choice;
  const r = prng(flowId + 1)();
  return r < 0.6 ? 'small' : r < 0.9 ? 'medium' : 'large';
}
