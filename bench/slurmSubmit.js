#!/usr/bin/env node
/**
 * Slurm backend benchmark on the loopback test cluster (scripts/slurm-start.sh), 1,000 tiny files:
 *  1. submission as ONE array of 1,000 tasks (one file per task): script generation + manifest +
 *     task lists (prepare) and `sbatch` timed separately; the array is cancelled right away.
 *  2. end to end (submit → all collected) of the same tiny task (`cat {}`) vs the local engine run of
 *     it with -j 2: packed with measured task times (from the local run: everything fits one array
 *     task) and packed by the 1 s/file guess (34 array tasks).
 * Needs a build (npx webpack && npx tsc -p .) and root (or sudo) for the cluster.
 * The cluster is started with MaxArraySize=1001 for step 1 and put back to the test defaults at the end.
 */
'use strict';
const cp = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const core = require(path.join(ROOT, 'out', 'extension', 'core'));
const CLI = path.join(ROOT, 'dist', 'cli.js');
const N = Number(process.env.BENCH_FILES || 1000);

function startCluster(extraEnv) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SLURM_CI_')) delete env[k];
  const r = cp.spawnSync('bash', [path.join(ROOT, 'scripts', 'slurm-start.sh')], { env: { ...env, ...extraEnv }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`slurm-start.sh failed:\n${r.stderr}`);
}

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const now = () => process.hrtime.bigint();
const slurm = (over = {}) => ({ ...core.validateSettings({}).slurm, timeLimit: '00:30:00', ...over });

async function main() {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js missing: build first (npx webpack --mode development && npx tsc -p .)');
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-bench-slurm-'));
  const data = path.join(ws, 'data');
  fs.mkdirSync(data);
  for (let i = 0; i < N; i++) fs.writeFileSync(path.join(data, `f${String(i).padStart(5, '0')}.txt`), `${i}\n`);
  const files = { kind: 'folder', path: data, recursive: false };
  const command = { kind: 'template', argv: ['cat', '{}'] };
  const runs = path.join(ws, 'runs');
  console.log(`Slurm backend benchmark: ${N} files, ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);

  // ---- 1. submission as one array of N tasks
  startCluster({ SLURM_CI_MAX_ARRAY_SIZE: String(Math.max(1001, N + 1)) });
  const rows = [];
  for (let rep = 0; rep < 3; rep++) {
    const t0 = now();
    const prep = await core.prepareSlurmRun({ command, files, cwd: ws, outDir: path.join(runs, `one-array-${rep}`), slurm: slurm({ targetTaskSeconds: 0.001 }), cliPath: CLI });
    const tPrep = ms(t0);
    const t1 = now();
    const handle = await core.submitSlurmRun(prep, { pollMinMs: 200 });
    const tSbatch = ms(t1);
    await core.cancelSlurmRun(prep.runDir);
    await handle.done;
    if (prep.plan.parts.length !== 1 || prep.plan.tasks.length !== N) throw new Error(`expected one array of ${N} tasks, got ${prep.plan.parts.length} parts / ${prep.plan.tasks.length} tasks`);
    rows.push({ prep: tPrep, sbatch: tSbatch, total: tPrep + tSbatch });
  }
  const best = rows.reduce((a, b) => (b.total < a.total ? b : a));
  console.log(`\n1) submission as ONE array of ${N} tasks (sbatch --array=0-${N - 1}), best of 3:`);
  console.log(`   prepare (validate, ask MaxArraySize, pack, manifest + tasks.txt + script):     ${best.prep.toFixed(0)} ms`);
  console.log(`   sbatch --parsable (+ submission.json):                                      ${best.sbatch.toFixed(0)} ms`);
  const met = best.total < 2000;
  console.log(`   total: ${(best.total / 1000).toFixed(2)} s   (aim < 2 s: ${met ? 'met' : 'MISSED'})   all: ${rows.map((r) => (r.total / 1000).toFixed(2)).join(', ')} s`);
  startCluster({}); // back to the test cluster (2 nodes × 4 CPUs, MaxArraySize=10)

  // ---- 2. end to end vs local
  const localRun = async (workers) => {
    const t = now();
    const h = await core.startRun({ command, files, cwd: ws, outDir: path.join(runs, `local-j${workers}`), workers, workersDir: path.join(ROOT, 'dist', 'workers') });
    const r = await h.done;
    if (r.status !== 'succeeded') throw new Error(`local run ${r.status}`);
    return ms(t);
  };
  // -j 2 = this machine's cores; -j 8 = as many slots as the test cluster (2 nodes × 4 CPUs) offers
  const localMs = await localRun(2);
  const local8Ms = await localRun(8);

  const e2e = async (name, opts) => {
    const t = now();
    const h = await core.startSlurmRun({ command, files, cwd: ws, outDir: path.join(runs, name), cliPath: CLI, ...opts }, { pollMinMs: 200, pollMaxMs: 1000 });
    const r = await h.done;
    const wall = ms(t);
    if (r.status !== 'succeeded' || r.counts.succeeded !== N) throw new Error(`${name}: ${r.status} ${JSON.stringify(r.counts)}`);
    const plan = JSON.parse(fs.readFileSync(path.join(runs, name, 'slurm', 'plan.json'), 'utf8'));
    return { name, wall, tasks: plan.tasks.length, arrays: plan.parts.length };
  };
  // measured times come from the newest earlier run of the same command (the -j 8 local run)
  const measured = await e2e('slurm-measured', { slurm: slurm(), runsDir: runs });
  const guessed = await e2e('slurm-guess', { slurm: slurm() });
  console.log(`\n2) end to end, ${N} × "cat {}" (submit → every file collected):`);
  console.log(`   local engine, -j 2:                                        ${(localMs / 1000).toFixed(2)} s   1.00×`);
  console.log(`   local engine, -j 8 (same slots as the cluster):             ${(local8Ms / 1000).toFixed(2)} s   ${(local8Ms / localMs).toFixed(2)}×`);
  for (const r of [measured, guessed]) {
    console.log(`   Slurm, ${r.name === 'slurm-measured' ? 'packed by measured times' : 'packed by the 1 s/file guess'} (${r.tasks} array task${r.tasks === 1 ? '' : 's'}, ${r.arrays} array${r.arrays === 1 ? '' : 's'}): ${(r.wall / 1000).toFixed(2)} s   ${(r.wall / localMs).toFixed(2)}×  vs -j 2: ${((r.wall - localMs) / 1000).toFixed(2)} s, vs -j 8: ${((r.wall - local8Ms) / 1000).toFixed(2)} s`);
  }
  const out = path.join(__dirname, 'results');
  fs.mkdirSync(out, { recursive: true });
  const round = (x) => Math.round(x);
  fs.writeFileSync(path.join(out, 'slurmSubmit.json'), JSON.stringify({
    files: N,
    cores: os.cpus().length,
    submission: { aimMs: 2000, met, best: { prepareMs: round(best.prep), sbatchMs: round(best.sbatch), totalMs: round(best.total) }, runs: rows.map((r) => ({ prepareMs: round(r.prep), sbatchMs: round(r.sbatch), totalMs: round(r.total) })) },
    endToEnd: {
      task: 'cat {}',
      localJ2Ms: round(localMs),
      localJ8Ms: round(local8Ms),
      slurm: [measured, guessed].map((r) => ({ packing: r.name === 'slurm-measured' ? 'measured' : 'guess', arrayTasks: r.tasks, arrays: r.arrays, wallMs: round(r.wall), overheadVsLocalJ2Ms: round(r.wall - localMs), ratioVsLocalJ2: Number((r.wall / localMs).toFixed(2)) })),
    },
  }, null, 2) + '\n');
  if (!met) console.log(`MISSED: submitting ${N} files took ${(best.total / 1000).toFixed(2)} s (aim < 2 s)`);
  fs.rmSync(ws, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
