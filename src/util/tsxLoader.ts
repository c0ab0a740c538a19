/**
 * The tsx loader as an `--import` argument, for child node processes that run our TypeScript
 * directly (`node --import <url> script.ts`): the stack process, re-run milestones, tests.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** `file://…/node_modules/tsx/dist/loader.mjs`: pass as `['--import', TSX_LOADER_URL, script]`. */
export const TSX_LOADER_URL: string = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
