// Re-runs per SIGKILL: a file whose task finished but whose journal line was not yet written when the
// runner was killed runs again on --resume (at-least-once). 20 kills at random moments of a run of
// short tasks (cold template and warm Python, -j 2, in batches), then a resume to the end; each task
// counts its own completions in a marker file. Aim: at most one re-run per slot per kill.
// A file counts as done once its journal line, or its host's completion record (completions.log: the
// resume journals those first), is written.
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { CLI, PYTHON, tmp, makeInputs, loadNote } = require('./lib/engineBench');

const KILLS = Number(process.env.BENCH_KILLS || 20);
const N = Number(process.env.BENCH_TASKS || 3000);
const SLOTS = 2;

/** A file's text, '' when it is missing. */
function text(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function journaled(out) {
  const ok = new Set();
  for (const l of text(path.join(out, 'journal.ndjson')).split('\n')) {
    try {
      const j = JSON.parse(l);
      if (j.status === 'succeeded') ok.add(path.basename(j.file));
    } catch {
      /* torn or empty */
    }
  }
  // "<token JSON> D pid status user sys rss start end": exit status 0 only
  for (const l of text(path.join(out, 'completions.log')).split('\n')) {
    const f = l.split(' ');
    if (f.length < 9 || f[f.length - 8] !== 'D' || f[f.length - 6] !== '0') continue;
    try {
      ok.add(path.basename(JSON.parse(f.slice(0, -8).join(' ')).f));
    } catch {
      /* torn */
    }
  }
  return ok;
}

/** Completions per file, from the markers the tasks append to (one byte per completion). */
function completions(marks) {
  const m = new Map();
  for (const f of fs.readdirSync(marks)) m.set(f, fs.statSync(path.join(marks, f)).size);
  return m;
}

async function one(mode) {
  const dir = tmp('pr-bench-kill-');
  const list = makeInputs(dir, N);
  const marks = path.join(dir, 'marks');
  fs.mkdirSync(marks);
  const script = path.join(dir, 'task.py');
  fs.writeFileSync(script, 'import sys, os\nwith open(os.path.join("marks", os.path.basename(sys.argv[1])), "a") as f:\n    f.write("x")\n');
  const what = mode === 'warm' ? ['--warm', '--script', script] : ['--', 'sh', '-c', 'printf x >> "marks/${1##*/}"', 'sh', '{}'];
  const out = path.join(dir, 'out');
  const base = ['run', '-j', String(SLOTS), '--files-from', list, '--out', out, '--quiet', ...what];
  const env = { ...process.env, PARALLEL_RUN_PYTHON: PYTHON };
  const perKill = [];
  for (let k = 0; k < KILLS; k++) {
    const args = k === 0 ? base : [...base.slice(0, 7), '--resume', ...base.slice(7)];
    const before = journaled(out).size;
    if (before >= N) break;
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: 'ignore', env });
    const exited = new Promise((r) => child.on('exit', r));
    // kill at a random moment once this session journaled something
    const after = 5 + Math.floor(Math.random() * 60);
    while (journaled(out).size < Math.min(N, before + after)) {
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
    }
    child.kill('SIGKILL');
    await exited;
    await new Promise((r) => setTimeout(r, 300)); // the hosts see the runner die and stop their tasks
    const ok = journaled(out);
    let rerunsNow = 0;
    for (const [f, n] of completions(marks)) if (n > 0 && !ok.has(f)) rerunsNow++;
    perKill.push(rerunsNow);
  }
  const r = spawnSync(process.execPath, [CLI, ...base.slice(0, 7), '--resume', ...base.slice(7)], { cwd: dir, encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`resume failed: ${r.stderr}`);
  let total = 0;
  let files = 0;
  for (const n of completions(marks).values()) {
    total += n;
    files++;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  if (files !== N) throw new Error(`${files} of ${N} files ran`);
  return { mode, kills: perKill.length, reruns: total - N, max: Math.max(...perKill) };
}

(async () => {
  console.log(`re-runs per SIGKILL: ${N} short tasks, -j ${SLOTS}, up to ${KILLS} kills each; ${loadNote()}`);
  for (const mode of ['cold', 'warm']) {
    const r = await one(mode);
    const per = r.reruns / Math.max(1, r.kills);
    console.log(`  ${mode}: ${r.reruns} re-runs in ${r.kills} kills = ${per.toFixed(2)} per kill (at most ${r.max} in one kill; aim <= ${SLOTS}, one per slot)`);
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
