// Python start-up (issue 3): 500 files, a script that imports numpy and does tiny work, 2 workers:
// parallel-run cold and warm (--warm) vs `parallel -j 2 python script.py {}`. Every contender uses the
// real interpreter (not the pyenv shim). Aim: warm >= 10x GNU Parallel.
'use strict';
const fs = require('fs');
const path = require('path');
const { CLI, PYTHON, tmp, makeInputs, time, have, loadNote } = require('./lib/engineBench');

const N = Number(process.env.BENCH_TASKS || 500);

(async () => {
  const dir = tmp('pr-bench-pystart-');
  const list = makeInputs(dir, N, '3\n');
  const script = path.join(dir, 'tiny_numpy.py');
  fs.writeFileSync(script, 'import sys\nimport numpy as np\nn = int(open(sys.argv[1]).read())\nprint(int(np.arange(n).sum()))\n');
  const env = { PARALLEL_RUN_PYTHON: PYTHON };
  const rows = [];
  const cold = await time([process.execPath, CLI, 'run', '-j', '2', '--quiet', '--files-from', list, '--out', path.join(dir, 'cold'), '--script', script], { cwd: dir, env });
  if (cold.code !== 0) throw new Error(cold.stderr);
  rows.push(['parallel-run cold', cold.ms, cold.cpuSec]);
  const warm = await time([process.execPath, CLI, 'run', '-j', '2', '--quiet', '--warm', '--files-from', list, '--out', path.join(dir, 'warm'), '--script', script], { cwd: dir, env });
  if (warm.code !== 0) throw new Error(warm.stderr);
  rows.push(['parallel-run warm', warm.ms, warm.cpuSec]);
  let gp;
  if (have('parallel')) {
    gp = await time(['parallel', '--will-cite', '-j', '2', PYTHON, script, '{}', '::::', list], { cwd: dir });
    rows.push(['parallel -j 2', gp.ms, gp.cpuSec]);
  }
  console.log(`python start: ${N} files, numpy import + tiny work, 2 workers (${loadNote()})`);
  for (const [name, ms, cpu] of rows) console.log(`  ${name.padEnd(18)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${(N / (ms / 1000)).toFixed(1).padStart(7)} files/s  CPU ${cpu.toFixed(1)} s`);
  console.log(`  warm vs cold:             ${(cold.ms / warm.ms).toFixed(2)}x`);
  if (gp) {
    console.log(`  warm vs GNU Parallel:     ${(gp.ms / warm.ms).toFixed(2)}x (aim >= 10x)`);
    console.log(`  cold vs GNU Parallel:     ${(gp.ms / cold.ms).toFixed(2)}x`);
    console.log(`  CPU: warm ${(gp.cpuSec / warm.cpuSec).toFixed(2)}x less than GNU Parallel`);
  }
  if (process.env.BENCH_JSON) console.log(JSON.stringify({ bench: 'pythonStart', files: N, coldMs: cold.ms, warmMs: warm.ms, gnuParallelMs: gp && gp.ms }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
