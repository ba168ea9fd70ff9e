// Matrix demo benchmark: mat · matᵀ (1000 × 1500, 10 row blocks) with ml-matrix on workerpool
// thread workers, 2 workers vs 1. Needs the webpack build (dist/workers/matrixWorker.js) and the tsc
// build (out/). Prints the best of `REPEATS` runs per configuration and the ratio.
'use strict';
const path = require('path');
const os = require('os');
const { runMatrixDemo } = require('../out/extension/core/demos/matrixDemo');

const REPEATS = Number(process.env.BENCH_REPEATS || 3);
const workersDir = path.resolve(__dirname, '../dist/workers');

(async () => {
  const cores = os.availableParallelism();
  const n = Math.min(2, cores);
  const best = { 1: Infinity, [n]: Infinity };
  let maxDiff = 0;
  for (let i = 0; i < REPEATS; i++) {
    const r = await runMatrixDemo({ workersDir, workerCounts: [1, n], skipReference: i > 0 });
    for (const t of r.timings) best[t.workers] = Math.min(best[t.workers], t.ms);
    maxDiff = Math.max(maxDiff, r.maxAbsDiff);
  }
  const ratio = best[1] / best[n];
  console.log(`matrix demo 1000x1500, 10 blocks, ${cores} cores, best of ${REPEATS}`);
  console.log(`  1 worker : ${(best[1] / 1000).toFixed(3)} s`);
  console.log(`  ${n} workers: ${(best[n] / 1000).toFixed(3)} s`);
  console.log(`  speedup ${n} vs 1: ${ratio.toFixed(2)}x (aim >= 1.8x on 2 cores); max abs diff vs serial ${maxDiff.toExponential(2)}`);
  if (process.env.BENCH_JSON) console.log(JSON.stringify({ bench: 'matrix', cores, oneMs: best[1], nMs: best[n], workers: n, ratio, maxAbsDiff: maxDiff }));
})().catch((e) => { console.error(e); process.exit(1); });
