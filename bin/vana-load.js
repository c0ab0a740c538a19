#!/usr/bin/env node
// The `vana-load` command of package.json "bin": runs the TypeScript entry point through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
