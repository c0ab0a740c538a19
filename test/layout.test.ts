/**
 * The house rules a reader relies on, checked on every `npm test`: no import cycle under src/
 * (type-only imports count, as madge counts them), and no source file over 400 lines but the
 * generated ABIs and the config schema table. Tests are not held to the line limit: a test file
 * grows with the cases it covers.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAX_LINES = 400;
const LONG_ALLOWED = new Set(['src/protocol/abis.ts', 'src/config/schema.ts']);
const SOURCE_ROOTS = ['src', 'scripts', 'milestones', 'packages/artillery-engine-vana/src'];

/** Every `.ts` file under `dir`, relative to the repository, node_modules left out. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string): void => {
    for (const name of readdirSync(abs)) {
      if (name === 'node_modules') continue;
      const path = join(abs, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(relative(ROOT, path));
    }
  };
  walk(join(ROOT, dir));
  return out.sort();
}

const isTest = (file: string): boolean => file.endsWith('.test.ts');

/** Relative module specifiers a file imports or re-exports, static or dynamic, type-only included. */
export function relativeImports(source: string): string[] {
  const specifiers: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]+)\1/gm;
  for (const match of source.matchAll(pattern)) specifiers.push(match[2]!);
  return specifiers;
}

/** One import cycle among `files` (repository-relative), as a path that returns to its start, or undefined. */
export function findCycle(files: readonly string[], read: (file: string) => string): string[] | undefined {
  const known = new Set(files);
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const targets = relativeImports(read(file))
      .map((spec) => relative(ROOT, resolve(ROOT, dirname(file), spec)))
      .filter((target) => known.has(target));
    edges.set(file, targets);
  }
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): string[] | undefined => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (state.get(next) === undefined) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(file, 'done');
    return undefined;
  };
  for (const file of files) {
    if (state.get(file) !== undefined) continue;
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return undefined;
}

const readRepoFile = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

describe('layout', () => {
  it('has no import cycle under src/', () => {
    const files = tsFiles('src').filter((file) => !isTest(file));
    expect(files.length).toBeGreaterThan(100);
    expect(findCycle(files, readRepoFile)?.join(' → ')).toBeUndefined();
  });

  it(`keeps every source file at ${MAX_LINES} lines or fewer (generated ABIs and the config table aside)`, () => {
    const files = SOURCE_ROOTS.flatMap(tsFiles).filter((file) => !isTest(file) && !LONG_ALLOWED.has(file));
    const long = files
      .map((file) => ({ file, lines: readRepoFile(file).split('\n').length - 1 }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(long).toEqual([]);
  });

  it('finds a cycle when there is one, type-only and re-exports included', () => {
    const sources: Record<string, string> = {
      'src/a.ts': "import { b } from './b.ts';",
      'src/b.ts': "import type { C } from './c/c.ts';\nexport const b = 1;",
      'src/c/c.ts': "export { a } from '../a.ts';",
      'src/d.ts': "import { a } from './a.ts';",
    };
    expect(findCycle(Object.keys(sources), (file) => sources[file]!)).toEqual(['src/a.ts', 'src/b.ts', 'src/c/c.ts', 'src/a.ts']);
    delete sources['src/c/c.ts'];
    expect(findCycle(Object.keys(sources), (file) => sources[file]!)).toBeUndefined();
  });

  it('reads static, dynamic and multi-line imports, and leaves package imports out', () => {
    const source = [
      "import {\n  x,\n  y,\n} from '../x.ts';",
      "import './side-effect.ts';",
      "const m = await import('./lazy.ts');",
      "import pino from 'pino';",
      "export * from './all.ts';",
    ].join('\n');
    expect(relativeImports(source)).toEqual(['../x.ts', './side-effect.ts', './lazy.ts', './all.ts']);
  });
});
