// Dispatch overhead (issue 3): 2,000 trivial tasks (`true {}`) on 2 workers, parallel-run (CLI, with
// journal and per-task logs on) vs `xargs -P 2` and GNU `parallel -j 2`. Prints throughput and ratios.
// Aim: >= 1.0x xargs throughput, >= 4x GNU Parallel.
'use strict';
const path = require('path');
const { CLI, tmp, makeInputs, time, best, have, loadNote } = require('./lib/engineBench');

const N = Number(process.env.BENCH_TASKS || 2000);
const REPEATS = Number(process.env.BENCH_REPEATS || 2);

(async () => {
  const dir = tmp('pr-bench-dispatch-');
  const list = makeInputs(dir, N);
  const rows = [];
  let k = 0;
  const pr = await best(REPEATS, () => time([process.execPath, CLI, 'run', '-j', '2', '--quiet', '--files-from', list, '--out', path.join(dir, `run${k++}`), '--', 'true', '{}'], { cwd: dir }));
  if (pr.code !== 0) throw new Error(`parallel-run failed: ${pr.stderr}`);
  rows.push(['parallel-run', pr.ms, pr.cpuSec]);
  const xa = await best(REPEATS, () => time(['xargs', '-d', '\n', '-P', '2', '-n', '1', 'true'], { cwd: dir, stdinFile: list }));
  rows.push(['xargs -P 2', xa.ms, xa.cpuSec]);
  let gp;
  if (have('parallel')) {
    gp = await best(1, () => time(['parallel', '--will-cite', '-j', '2', 'true', '{}', '::::', list], { cwd: dir }));
    rows.push(['parallel -j 2', gp.ms, gp.cpuSec]);
  }
  console.log(`dispatch: ${N} x "true {}", 2 workers (best of ${REPEATS}; GNU Parallel once; ${loadNote()})`);
  for (const [name, ms, cpu] of rows) console.log(`  ${name.padEnd(14)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${(N / (ms / 1000)).toFixed(0).padStart(6)} tasks/s  CPU ${cpu.toFixed(2)} s (${((1000 * cpu) / N).toFixed(2)} ms/task)`);
  const vsX = xa.ms / pr.ms;
  console.log(`  parallel-run vs xargs:    ${vsX.toFixed(2)}x throughput (aim >= 1.0x)`);
  if (gp) console.log(`  parallel-run vs parallel: ${(gp.ms / pr.ms).toFixed(2)}x throughput (aim >= 4x)`);
  console.log(`  CPU per task vs xargs:    ${(xa.cpuSec / pr.cpuSec).toFixed(2)}x less${gp ? `; vs parallel ${(gp.cpuSec / pr.cpuSec).toFixed(2)}x less` : ''}`);
  if (process.env.BENCH_JSON) console.log(JSON.stringify({ bench: 'dispatch', tasks: N, parallelRunMs: pr.ms, xargsMs: xa.ms, gnuParallelMs: gp && gp.ms }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
