/**
 * `blocks.jsonl` of a run: one line per block the chain timeline read (chainTypes.ts
 * `BlockRecord`), appended in batches: the caller flushes once per sampler interval, so a crash
 * loses at most the blocks of one interval. Beside `timeseries.jsonl`, which folds the same blocks
 * per interval.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { BlockRecord } from './chainTypes.ts';

export const BLOCKS_FILE = 'blocks.jsonl';

export interface BlocksFile {
  readonly path: string;
  append(block: BlockRecord): void;
  /** Writes the lines appended since the last flush. */
  flush(): void;
  /** Flushes and closes; later appends are ignored. Safe to call twice. */
  close(): void;
}

/**
 * Creates `<dir>/blocks.jsonl` (refusing one that exists: a run directory belongs to one run).
 *
 * @example
 * const file = createBlocksFile(writer.dir);
 * file.append(block);
 * file.flush();
 * file.close();
 */
export function createBlocksFile(dir: string): BlocksFile {
  const path = join(dir, BLOCKS_FILE);
  const fd = openSync(path, 'ax');
  let lines: string[] = [];
  let closed = false;
  const flush = (): void => {
    if (closed || lines.length === 0) return;
    const buffer = Buffer.from(lines.join(''), 'utf8');
    lines = [];
    let offset = 0;
    while (offset < buffer.length) offset += writeSync(fd, buffer, offset);
  };
  return {
    path,
    append(block) {
      if (!closed) lines.push(`${JSON.stringify(block)}\n`);
    },
    flush,
    close() {
      if (closed) return;
      flush();
      closed = true;
      closeSync(fd);
    },
  };
}
