// Many files: 100,000 inputs from a list. Time from launching the CLI to the first task
// start (aim < 1 s) and the runner's peak RSS (aim < 200 MB, sampled from /proc/<pid>/status VmHWM).
// By default the run is stopped after BENCH_SECONDS (30) with SIGTERM; BENCH_FULL=1 runs all files.
'use strict';
const fs = require('fs');
const path = require('path');
const { tmp, loadNote, watchCliRun } = require('./lib/engineBench');

const N = Number(process.env.BENCH_TASKS || 100000);
const SECONDS = Number(process.env.BENCH_SECONDS || 30);
const FULL = !!process.env.BENCH_FULL;


(async () => {
  const dir = tmp('pr-bench-many-');
  fs.mkdirSync(path.join(dir, 'in'));
  const names = [];
  for (let i = 1; i <= N; i++) {
    const f = `in/f${String(i).padStart(6, '0')}.txt`;
    fs.writeFileSync(path.join(dir, f), '');
    names.push(f);
  }
  const list = path.join(dir, 'list.txt');
  fs.writeFileSync(list, names.join('\n') + '\n');
  const { firstMs, done, peakKb: peak, wallMs: wall } = await watchCliRun(['-j', '2', '--files-from', list, '--out', path.join(dir, 'run'), '--', 'true'], dir, FULL ? undefined : SECONDS);
  console.log(`many files: ${N} inputs, "true", 2 workers${FULL ? '' : ` (stopped after ${SECONDS} s)`}; ${loadNote()}`);
  console.log(`  first task started after ${(firstMs / 1000).toFixed(3)} s (aim < 1 s)`);
  console.log(`  runner peak RSS ${(peak / 1024).toFixed(1)} MB (aim < 200 MB) with ${done} tasks finished in ${(wall / 1000).toFixed(1)} s (${(done / (wall / 1000)).toFixed(0)} tasks/s)`);
  if (process.env.BENCH_JSON) console.log(JSON.stringify({ bench: 'manyFiles', files: N, firstTaskMs: firstMs, peakRssKb: peak, finished: done, wallMs: wall }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
