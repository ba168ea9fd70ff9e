// CPU-bound scaling (issue 3): 8 tasks of ~1 s of pure-Python CPU work, parallel-run on 2 workers vs
// the same 8 tasks one after another (parallel-run -j 1). Aim: speedup >= 1.9x on 2 cores.
'use strict';
const fs = require('fs');
const path = require('path');
const { CLI, PYTHON, tmp, makeInputs, time, loadNote } = require('./lib/engineBench');

const TASKS = 8;

(async () => {
  const dir = tmp('pr-bench-cpu-');
  // calibrate the loop so one task is ~1 s of CPU on this machine
  const script = path.join(dir, 'spin.py');
  fs.writeFileSync(script, 'import sys\nn = int(open(sys.argv[1]).read())\ns = 0\nfor i in range(n):\n    s += i * i % 7\nprint(s)\n');
  const probe = path.join(dir, 'probe.txt');
  fs.writeFileSync(probe, '2000000');
  const t = await time([PYTHON, script, probe]);
  const n = Math.max(100000, Math.round((2000000 * 1000) / t.ms));
  const list = makeInputs(dir, TASKS, String(n));
  const env = { PARALLEL_RUN_PYTHON: PYTHON };
  const serial = await time([process.execPath, CLI, 'run', '-j', '1', '--quiet', '--files-from', list, '--out', path.join(dir, 'serial'), '--script', script], { cwd: dir, env });
  const par = await time([process.execPath, CLI, 'run', '-j', '2', '--quiet', '--files-from', list, '--out', path.join(dir, 'par'), '--script', script], { cwd: dir, env });
  if (serial.code !== 0 || par.code !== 0) throw new Error(serial.stderr + par.stderr);
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'par', 'report.json'), 'utf8'));
  console.log(`cpu-bound: ${TASKS} tasks x ~1 s pure Python (loop of ${n}; ${loadNote()})`);
  console.log(`  serial (-j 1): ${(serial.ms / 1000).toFixed(2)} s`);
  console.log(`  -j 2:          ${(par.ms / 1000).toFixed(2)} s`);
  console.log(`  speedup:       ${(serial.ms / par.ms).toFixed(2)}x (aim >= 1.9x); engine's own estimate ${report.speedupEstimate.toFixed(2)}x`);
  if (process.env.BENCH_JSON) console.log(JSON.stringify({ bench: 'cpuBound', tasks: TASKS, serialMs: serial.ms, parallelMs: par.ms, speedup: serial.ms / par.ms }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
