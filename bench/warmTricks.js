// The warm host's low-level tricks (PARALLEL_RUN_WARM_TRICKS: fork, pools, code; see warm_host.py and
// CONTRIBUTING.md), each on and off side by side: BENCH_TASKS small numpy tasks, --warm, -j 2, with all
// tricks, with each one left out, and with none, in interleaved rounds. Prints per task the wall time,
// the CPU time and the minor (copy-on-write) page faults of the whole process tree (the last two count
// what a trick saves however busy the machine is), and each configuration's ratio to "all".
'use strict';
const fs = require('fs');
const path = require('path');
const { CLI, PYTHON, tmp, makeInputs, time, loadNote } = require('./lib/engineBench');

const N = Number(process.env.BENCH_TASKS || 400);
const ROUNDS = Number(process.env.BENCH_REPEATS || 3);
const CONFIGS = {
  all: 'all',
  'no fork': 'pools,code',
  'no pools': 'fork,code',
  'no code': 'fork,pools',
  none: 'none',
};

/** Minor page faults of our waited-for descendants so far (Linux /proc/self/stat cminflt). */
function childrenMinorFaults() {
  try {
    return Number(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[8]);
  } catch {
    return NaN;
  }
}

(async () => {
  const dir = tmp('pr-bench-tricks-');
  const list = makeInputs(dir, N, 'x');
  const script = path.join(dir, 'task.py');
  fs.writeFileSync(script, 'import sys\nimport numpy as np\n\na = np.arange(1000.0)\nprint(sys.argv[1], float(a.sum()))\n');
  const rows = {};
  let k = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const names = Object.keys(CONFIGS);
    if (round % 2) names.reverse();
    for (const name of names) {
      const env = { ...process.env, PARALLEL_RUN_PYTHON: PYTHON, PARALLEL_RUN_WARM_TRICKS: CONFIGS[name] };
      const f0 = childrenMinorFaults();
      const r = await time([process.execPath, CLI, 'run', '-j', '2', '--quiet', '--files-from', list, '--out', path.join(dir, `run${k++}`), '--warm', '--script', script], { cwd: dir, env });
      const faults = childrenMinorFaults() - f0;
      if (r.code !== 0) throw new Error(`${name} failed: ${r.stderr}`);
      const row = (rows[name] ??= { ms: [], cpu: [], faults: [] });
      row.ms.push(r.ms / N);
      row.cpu.push((r.cpuSec * 1000) / N);
      row.faults.push(faults / N);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`warmTricks: ${N} small numpy tasks, --warm, -j 2, ${ROUNDS} interleaved rounds (${loadNote()})`);
  const all = rows.all;
  for (const [name, r] of Object.entries(rows)) {
    const [ms, cpu, faults] = [median(r.ms), median(r.cpu), median(r.faults)];
    console.log(
      `  ${name.padEnd(9)} ${ms.toFixed(2)} ms wall, ${cpu.toFixed(2)} ms CPU, ${faults.toFixed(0)} minor faults per task;` +
        ` vs all: wall ${(ms / median(all.ms)).toFixed(3)}x, CPU ${(cpu / median(all.cpu)).toFixed(3)}x, faults ${(faults / median(all.faults)).toFixed(3)}x`,
    );
  }
  fs.rmSync(dir, { recursive: true, force: true });
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
