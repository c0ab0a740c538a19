import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface LockEntry {
  version?: string;
  optionalDependencies?: Record<string, string>;
}

// `npm ci` refuses a lockfile that lacks an entry for any optional dependency, even one for another
// platform. A registry without those platform packages (anvil's darwin/win32 builds) makes
// `npm install` drop them, so CI's clean install would fail; this test catches that before CI does.
describe('package-lock.json', () => {
  const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };

  it('has an entry for every optional dependency, so npm ci accepts it on a clean machine', () => {
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        const nested = `${path}/node_modules/${name}`;
        if (!lock.packages[nested] && !lock.packages[`node_modules/${name}`]) missing.push(`${name} (wanted by ${path || 'root'})`);
      }
    }
    expect(missing, 'restore them: node scripts/restore-lock-optionals.mjs').toEqual([]);
  });
});
