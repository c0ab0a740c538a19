'use strict';
/**
 * Preload for `artillery run` (`node --require`, e.g. through NODE_OPTIONS) that makes WORKERS=N
 * start N local workers. Artillery's local platform starts max(1, cpus − 1) worker threads and does
 * not read WORKERS (lib/platform/local/index.js in 2.0.21, index.ts in 2.0.34), which on a 2-core
 * machine means one worker. With WORKERS set, this makes `os.cpus()` list N + 1 CPUs in Artillery's
 * main thread (the only place that sizes the pool); without it, it changes nothing.
 * `vana-load artillery run --workers N` sets both for you.
 */
const { isMainThread } = require('node:worker_threads');
const os = require('node:os');

const wanted = Number(process.env.WORKERS);
if (isMainThread && Number.isInteger(wanted) && wanted >= 1) {
  const cpus = os.cpus.bind(os);
  os.cpus = () => {
    const list = cpus();
    return Array.from({ length: wanted + 1 }, (_, i) => list[i % list.length]);
  };
}
