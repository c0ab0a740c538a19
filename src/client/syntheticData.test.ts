import { describe, expect, it } from 'vitest';
import { DATA_SIZE_BYTES, dataSizeFor, generateUserData } from './syntheticData.ts';
import { seedFromString } from '../util/seededRandom.ts';

describe('generateUserData', () => {
  it('is deterministic: the same seed gives the same bytes, another seed other bytes', () => {
    expect(JSON.stringify(generateUserData(42, 'medium'))).toBe(JSON.stringify(generateUserData(42, 'medium')));
    expect(JSON.stringify(generateUserData(43, 'medium'))).not.toBe(JSON.stringify(generateUserData(42, 'medium')));
  });

  it.each(['small', 'medium', 'large'] as const)('makes %s data just over its target size, with every section', (size) => {
    const data = generateUserData(seedFromString(size), size);
    const bytes = JSON.stringify(data).length;
    expect(bytes).toBeGreaterThanOrEqual(DATA_SIZE_BYTES[size]);
    expect(bytes).toBeLessThan(DATA_SIZE_BYTES[size] + 200);
    expect(data.profile.email).toMatch(/@example\.com$/);
    expect(data.activity.length + data.purchases.length).toBeGreaterThan(0);
  });

  it('spreads mixed sizes about 60/30/10 and keeps each flow on the same size', () => {
    const counts = { small: 0, medium: 0, large: 0 };
    for (let i = 0; i < 3000; i++) counts[dataSizeFor(i, 'mixed')] += 1;
    expect(counts.small / 3000).toBeCloseTo(0.6, 1);
    expect(counts.medium / 3000).toBeCloseTo(0.3, 1);
    expect(counts.large / 3000).toBeCloseTo(0.1, 1);
    expect(dataSizeFor(17, 'mixed')).toBe(dataSizeFor(17, 'mixed'));
    expect(dataSizeFor(17, 'large')).toBe('large');
  });
});
