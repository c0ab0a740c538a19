/**
 * Writes `.env.example` at the repository root from the config table.
 * Run after changing src/config/schema.ts: `npx tsx scripts/generate-env-example.ts`.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generateEnvExample } from '../src/config/envExample.ts';

const target = fileURLToPath(new URL('../.env.example', import.meta.url));
await writeFile(target, generateEnvExample());
process.stdout.write(`wrote ${target}\n`);
