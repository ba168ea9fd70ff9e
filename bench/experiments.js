// Experiments: a 3,000-point likelihood grid (numpy + scipy, about 1 ms a point) on 2 workers.
//   parallel-run --call (journal + results.csv on) vs a hand-written multiprocessing.Pool.map,
//   joblib.Parallel and GNU Parallel (one python per point). Aims: --call at most 1.25x Pool.map's wall
//   time; at least 20x faster than GNU Parallel.
//   The same grid with forked warm workers (--warm, a fork per point): the fork's cost per task.
//   Like for like: a call host keeps the memory a call freed for the next one (glibc settings, see
//   keep_freed_memory in media/python/call_host.py), which Pool.map's workers do not: --call is also
//   timed without it (PARALLEL_RUN_CALL_KEEP_MB=0), and Pool.map with the same settings.
// Then a 100,000-tuple grid of `true`: first task start (aim < 1 s) and the runner's peak RSS (aim < 200 MB).
// Beside the wall times, the CPU time of each contender's whole process tree (load-independent, unlike
// wall time on a shared machine). BENCH_WARM=0 leaves the --warm contender out. The same two runs on a
// 2-point grid split what is left into a fixed cost (start-up, imports, the end) and a cost per point.
// Everything runs on Debian's /usr/bin/python3 (python3-numpy, python3-scipy, python3-joblib). Rounds are
// interleaved (ABBA) and medians reported. GNU Parallel runs a subset (BENCH_GNU_POINTS, 300) of the
// grid, its time scaled to 3,000 points (it costs a python start with scipy's import per point).
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { CLI, tmp, time, have, loadNote, watchCliRun } = require('./lib/engineBench');

const PY = '/usr/bin/python3';
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const GNU_POINTS = Number(process.env.BENCH_GNU_POINTS || 300);
const GRID = ['--grid', 'mu=-1:1.95:0.05', '--grid', 'sigma=0.5:2.95:0.05']; // 60 x 50 = 3,000

const LIK = `import numpy as np
from scipy import stats

_rng = np.random.default_rng(0)
DATA = _rng.normal(0.3, 1.2, 44000)


def loglike(mu: float, sigma: float):
    return {"ll": float(stats.norm.logpdf(DATA, mu, sigma).sum())}


if __name__ == "__main__":
    import json, sys
    print(json.dumps(loglike(float(sys.argv[1]), float(sys.argv[2]))))
`;

const GRID_PY = `def grid():
    mus = [round(-1 + 0.05 * i, 2) for i in range(60)]
    sigmas = [round(0.5 + 0.05 * j, 2) for j in range(50)]
    return [(m, s) for m in mus for s in sigmas]
`;

const POOL = `import sys
from multiprocessing import Pool
from lik import loglike
from gridpts import grid


def one(p):
    return loglike(*p)


if __name__ == "__main__":
    points = grid()[: int(sys.argv[1])] if len(sys.argv) > 1 else grid()
    with Pool(2) as pool:
        out = pool.map(one, points)
    assert len(out) == len(points)
`;

const JOBLIB = `from joblib import Parallel, delayed
from lik import loglike
from gridpts import grid

if __name__ == "__main__":
    out = Parallel(n_jobs=2)(delayed(loglike)(m, s) for m, s in grid())
    assert len(out) == 3000
`;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}


async function manyTuples() {
  const dir = tmp('pr-bench-grid-');
  const seconds = Number(process.env.BENCH_SECONDS || 30);
  const { firstMs, done, peakKb: peak, wallMs: wall } = await watchCliRun(['-j', '2', '--grid', 'a=1:1000', '--grid', 'b=1:100', '--out', path.join(dir, 'run'), '--', 'true'], dir, process.env.BENCH_FULL ? undefined : seconds);
  const rows = fs.readFileSync(path.join(dir, 'run', 'results.csv'), 'utf8').split('\n').length - 2;
  console.log(`grid of 100,000 tuples, "true", 2 workers${process.env.BENCH_FULL ? '' : ` (stopped after ${seconds} s)`}; ${loadNote()}`);
  console.log(`  first task started after ${(firstMs / 1000).toFixed(3)} s (aim < 1 s)`);
  console.log(`  runner peak RSS ${(peak / 1024).toFixed(1)} MB (aim < 200 MB) with ${done} tasks finished in ${(wall / 1000).toFixed(1)} s (${(done / (wall / 1000)).toFixed(0)} tasks/s), ${rows} results.csv rows`);
}

(async () => {
  const probe = spawnSync(PY, ['-c', 'import numpy, scipy, joblib'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.log(`experiments: skipped: ${PY} lacks numpy/scipy/joblib (apt install python3-scipy python3-joblib): ${probe.stderr.trim().split('\n').pop()}`);
    await manyTuples();
    return;
  }
  const dir = tmp('pr-bench-exp-');
  fs.writeFileSync(path.join(dir, 'lik.py'), LIK);
  fs.writeFileSync(path.join(dir, 'gridpts.py'), GRID_PY);
  fs.writeFileSync(path.join(dir, 'pool_map.py'), POOL);
  fs.writeFileSync(path.join(dir, 'joblib_par.py'), JOBLIB);
  // GNU Parallel's subset: the first GNU_POINTS points of the same grid
  const pts = spawnSync(PY, ['-c', `from gridpts import grid\nfor m, s in grid()[:${GNU_POINTS}]: print(m, s)`], { cwd: dir, encoding: 'utf8' }).stdout;
  fs.writeFileSync(path.join(dir, 'points.txt'), pts);
  const one = spawnSync(PY, ['-c', 'import time, lik\nt=time.perf_counter()\nfor i in range(200): lik.loglike(0.1, 1.0)\nprint((time.perf_counter()-t)/200*1000)'], { cwd: dir, encoding: 'utf8' });
  console.log(`experiments: 3,000-point likelihood grid, one point ${Number(one.stdout).toFixed(2)} ms of numpy+scipy, 2 workers; ${loadNote()}`);
  const env = { ...process.env };
  let round = 0;
  const run = {
    call: () => time([process.execPath, CLI, 'run', '-j', '2', '--quiet', '--python', PY, '--out', path.join(dir, `call${round}`), '--script', 'lik.py', '--call', 'loglike', ...GRID], { cwd: dir, env }),
    warm: () => time([process.execPath, CLI, 'run', '-j', '2', '--quiet', '--python', PY, '--out', path.join(dir, `warm${round}`), '--warm', '--script', 'lik.py', ...GRID, '--', '{mu}', '{sigma}'], { cwd: dir, env }),
    pool: () => time([PY, 'pool_map.py'], { cwd: dir, env }),
    // like for like: a call host keeps freed memory for the next call (call_host.py, keep_freed_memory);
    // --call without that, and Pool.map with the same glibc settings (through its environment)
    callGlibc: () => time([process.execPath, CLI, 'run', '-j', '2', '--quiet', '--python', PY, '--out', path.join(dir, `callg${round}`), '--script', 'lik.py', '--call', 'loglike', ...GRID], { cwd: dir, env: { ...env, PARALLEL_RUN_CALL_KEEP_MB: '0' } }),
    poolKept: () => time([PY, 'pool_map.py'], { cwd: dir, env: { ...env, MALLOC_MMAP_THRESHOLD_: String(32 << 20), MALLOC_TOP_PAD_: String(64 << 20) } }),
    joblib: () => time([PY, 'joblib_par.py'], { cwd: dir, env }),
    // the fixed costs: 2 points (one per worker)
    call2: () => time([process.execPath, CLI, 'run', '-j', '2', '--quiet', '--python', PY, '--out', path.join(dir, `call2-${round}`), '--script', 'lik.py', '--call', 'loglike', '--grid', 'mu=0.1,0.2', '--grid', 'sigma=1'], { cwd: dir, env }),
    pool2: () => time([PY, 'pool_map.py', '2'], { cwd: dir, env }),
  };
  if (process.env.BENCH_WARM === '0') delete run.warm;
  const ms = Object.fromEntries(Object.keys(run).map((k) => [k, []]));
  const cpu = Object.fromEntries(Object.keys(run).map((k) => [k, []]));
  for (round = 0; round < ROUNDS; round++) {
    const order = Object.keys(run);
    if (round % 2 === 1) order.reverse();
    for (const k of order) {
      const r = await run[k]();
      if (r.code !== 0) throw new Error(`${k}: exit ${r.code}: ${r.stderr}`);
      ms[k].push(r.ms);
      cpu[k].push(r.cpuSec);
    }
  }
  const rows = fs.readFileSync(path.join(dir, 'call0', 'results.csv'), 'utf8').trim().split('\n').length - 1;
  if (rows !== 3000) throw new Error(`--call wrote ${rows} results rows, not 3000`);
  let gnuMs;
  if (have('parallel')) {
    const g = await time(['parallel', '-j', '2', '--will-cite', '--colsep', ' ', PY, 'lik.py', '{1}', '{2}', '::::', 'points.txt'], { cwd: dir, env });
    if (g.code !== 0) throw new Error(`GNU Parallel: ${g.stderr}`);
    gnuMs = (g.ms * 3000) / GNU_POINTS;
  }
  const m = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, median(v)]));
  const c = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, median(v)]));
  console.log(`  medians of ${ROUNDS} interleaved rounds: --call ${(m.call / 1000).toFixed(2)} s (journal + results.csv), Pool.map ${(m.pool / 1000).toFixed(2)} s, joblib ${(m.joblib / 1000).toFixed(2)} s${m.warm !== undefined ? `, --warm ${(m.warm / 1000).toFixed(2)} s` : ''}`);
  console.log(`  --call / Pool.map = ${(m.call / m.pool).toFixed(2)}x (aim <= 1.25x; --call's hosts keep freed memory, Pool.map's workers do not: like for like on the next line); --call / joblib = ${(m.call / m.joblib).toFixed(2)}x`);
  console.log(`  like for like (the same glibc malloc settings on both sides): --call / Pool.map keeping freed memory (${(m.poolKept / 1000).toFixed(2)} s) = ${(m.call / m.poolKept).toFixed(2)}x; --call with glibc's defaults (${(m.callGlibc / 1000).toFixed(2)} s) / Pool.map = ${(m.callGlibc / m.pool).toFixed(2)}x`);
  console.log(`  CPU time of each process tree: --call ${c.call.toFixed(2)} s, Pool.map ${c.pool.toFixed(2)} s, joblib ${c.joblib.toFixed(2)} s${c.warm !== undefined ? `, --warm ${c.warm.toFixed(2)} s` : ''}; --call / Pool.map = ${(c.call / c.pool).toFixed(2)}x`);
  if (gnuMs !== undefined) console.log(`  GNU Parallel (python per point) ${(gnuMs / 1000).toFixed(1)} s for 3,000 points (scaled from ${GNU_POINTS}): --call is ${(gnuMs / m.call).toFixed(1)}x faster (aim >= 20x)`);
  if (m.warm !== undefined) console.log(`  fork per task (--warm) vs in-process (--call): ${(m.warm / m.call).toFixed(2)}x the wall time, ${(((m.warm - m.call) * 2) / 3000).toFixed(2)} ms of worker time per task; ${(((c.warm - c.call) * 1000) / 3000).toFixed(2)} ms of CPU per task`);
  // wall(3,000) = fixed + 2,998 x per point, from the 2-point runs
  const per = (k3000, k2) => ((m[k3000] - m[k2]) * 2) / 2998;
  console.log(`  fixed cost (2-point grid): --call ${(m.call2 / 1000).toFixed(2)} s wall, ${c.call2.toFixed(2)} s CPU; Pool.map ${(m.pool2 / 1000).toFixed(2)} s wall, ${c.pool2.toFixed(2)} s CPU`);
  console.log(`  per point beyond that: --call ${per('call', 'call2').toFixed(3)} ms of worker wall, ${(((c.call - c.call2) * 1000) / 2998).toFixed(3)} ms CPU; Pool.map ${per('pool', 'pool2').toFixed(3)} ms, ${(((c.pool - c.pool2) * 1000) / 2998).toFixed(3)} ms CPU`);
  await manyTuples();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
