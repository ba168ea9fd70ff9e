// What a cgroup per task costs: BENCH_TASKS trivial tasks (cold `true {}` through the exec host, and
// warm, a script that does nothing) on 2 workers, with a cgroup per task (the default where one can be
// made) and with PARALLEL_RUN_CGROUP=off, in interleaved rounds. Prints wall and CPU time per task and
// the ratio on / off (CPU time of the whole process tree counts what the cgroups cost however busy
// the machine is). Skips where no cgroup can be made.
'use strict';
const fs = require('fs');
const path = require('path');
const { CLI, PYTHON, tmp, makeInputs, time, loadNote } = require('./lib/engineBench');

const N = Number(process.env.BENCH_TASKS || 1000);
const ROUNDS = Number(process.env.BENCH_REPEATS || 3);

function cgroupsHere() {
  try {
    const { createRunCgroup } = require(path.join(__dirname, '..', 'out', 'extension', 'core', 'run', 'taskCgroup.js'));
    const run = createRunCgroup('bench-probe-' + process.pid);
    if (!run) return false;
    fs.rmdirSync(run.dir);
    return true;
  } catch {
    return false;
  }
}

(async () => {
  if (!cgroupsHere()) {
    console.log('taskCgroup: no cgroup can be made here (not Linux, or no write access): skipped');
    return;
  }
  const dir = tmp('pr-bench-cgroup-');
  const list = makeInputs(dir, N);
  fs.writeFileSync(path.join(dir, 'noop.py'), 'import sys\n');
  const modes = {
    cold: ['--', 'true', '{}'],
    warm: ['--warm', '--script', path.join(dir, 'noop.py')],
  };
  const sums = {};
  let k = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [mode, what] of Object.entries(modes)) {
      for (const cg of round % 2 ? ['off', 'on'] : ['on', 'off']) {
        const env = { ...process.env, PARALLEL_RUN_PYTHON: PYTHON, PARALLEL_RUN_CGROUP: cg === 'on' ? '' : 'off' };
        const r = await time([process.execPath, CLI, 'run', '-j', '2', '--quiet', '--files-from', list, '--out', path.join(dir, `run${k++}`), ...what], { cwd: dir, env });
        if (r.code !== 0) throw new Error(`${mode} cgroups ${cg} failed: ${r.stderr}`);
        const s = (sums[`${mode} ${cg}`] ??= { ms: [], cpu: [] });
        s.ms.push(r.ms);
        s.cpu.push(r.cpuSec);
      }
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`taskCgroup: ${N} trivial tasks, -j 2, ${ROUNDS} interleaved rounds (${loadNote()})`);
  for (const mode of Object.keys(modes)) {
    const on = sums[`${mode} on`];
    const off = sums[`${mode} off`];
    const per = (x) => ((x * 1000) / N).toFixed(2);
    console.log(
      `  ${mode}: cgroup per task ${per(median(on.ms) / 1000)} ms wall, ${per(median(on.cpu))} ms CPU per task; ` +
        `none ${per(median(off.ms) / 1000)} ms wall, ${per(median(off.cpu))} ms CPU; ` +
        `on/off wall ${(median(on.ms) / median(off.ms)).toFixed(3)}x, CPU ${(median(on.cpu) / median(off.cpu)).toFixed(3)}x`,
    );
  }
  fs.rmSync(dir, { recursive: true, force: true });
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
