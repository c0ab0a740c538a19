'use strict';
/**
 * artillery-engine-vana: the entry Artillery loads when a script lists `config.engines.vana`.
 * Artillery 2.0.21 loads engines with require() and constructs them synchronously, so this file
 * is CommonJS; the engine itself is TypeScript (src/createVanaEngine.ts, which imports the
 * vana-load harness), loaded with tsx's `tsImport`, a loader scoped to that import that leaves
 * the rest of the worker alone.
 *
 * Artillery's engine contract: `new Engine(script, ee, helpers)`; `async init()` (awaited by
 * Artillery >= 2.0.22 before the coordinated start, never called by 2.0.21); `createScenario(spec,
 * ee)` returns `(context, callback)`, which emits `started` and calls back when the user is done.
 */
let engineModule;
function loadEngineModule() {
  // tsx's ESM build: its CommonJS build of esm/api registers its hooks from a wrong path (tsx 4.21).
  engineModule ??= import('tsx/esm/api').then(({ tsImport }) => tsImport('./src/createVanaEngine.ts', __filename));
  return engineModule;
}

/** One line, with the error's code and context lines when it is one of vana-load's. */
function describe(err) {
  if (err && typeof err.code === 'string' && typeof err.shortMessage === 'string') return `Error [${err.code}]: ${err.message}`;
  return err && err.stack ? err.stack : String(err);
}

class VanaArtilleryEngine {
  constructor(script, ee /* , helpers */) {
    this.engine = loadEngineModule().then((m) => m.createVanaEngine({ script, runnerEvents: ee }));
    // A worker that cannot run flows ends the whole Artillery run at once (worker error, exit
    // 11) with the reason, instead of failing every virtual user for the length of the test.
    this.engine
      .then((engine) => engine.ready)
      .catch((err) => {
        setImmediate(() => {
          throw new Error(`artillery-engine-vana cannot run flows in this worker: ${describe(err)}`);
        });
      });
  }

  async init() {
    const engine = await this.engine;
    await engine.ready;
  }

  createScenario(_spec, ee) {
    return (context, callback) => {
      // The arrival: e2e counts from here, and `started` lands in this period even while the
      // engine is still loading (ARTILLERY_METRICS.flowsStarted of src/report/artilleryMetrics.ts).
      const arrivedAt = Date.now();
      ee.emit('started');
      ee.emit('counter', 'vana.flows.started', 1);
      this.engine
        .then((engine) => engine.runVirtualUser(ee, arrivedAt))
        .then(
          (result) => {
            if (result.success) return callback(null, context);
            const why = result.error ? `${result.error.step} (${result.error.errorClass}): ${result.error.message}` : 'no error recorded';
            return callback(new Error(`vana flow failed at ${why}`), context);
          },
          (err) => callback(err, context),
        );
    };
  }
}

module.exports = VanaArtilleryEngine;
