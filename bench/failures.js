// Failure groups and Explorer marks at scale, on records shaped like a real run's journal:
//   grouping   100,000 failed records (real Python tracebacks from test/fixtures/tracebacks, with
//              per-file paths and numbers in them): parse each traceback, make its signature,
//              group. Aim: under 1 s of runner CPU. Peer: JSON.parse of the same journal lines
//              (what reading them costs anyway), interleaved rounds.
//   marks      100,000 inputs in the Explorer (extension/host/failures/decorationIndex.ts), half of
//              them failed: what a refresh costs the provider. A run that ends (its marks are the
//              ones it showed live); a re-run of 1,000 failed files that now succeed (named one by
//              one as they end, VS Code asks for those); another run becoming the latest (VS Code
//              asks again for the files it shows: a window of 2,000); the worst case, every one of
//              the 100,000 asked. Aim: under 50 ms per refresh. Peers: the provider before (each
//              refresh made VS Code ask again for every file shown, and each answer was a Map.get per
//              folder and two new objects), and one fs.statSync per input (2,000 real files, scaled).
//
//   node bench/failures.js [--records 100000] [--rounds 5]
// Needs: npx tsc -p .   (out/)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const arg = (name, dflt) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const N = arg('--records', 100_000);
const ROUNDS = arg('--rounds', 5);

const { failureSignature, FailureGrouper } = require(path.join(ROOT, 'out/extension/core/run/failures.js'));
const { InputMarks } = require(path.join(ROOT, 'out/extension/core/run/inputStatus.js'));

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** CPU ms (user + system) of fn. */
function cpuMs(fn) {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

// ---- records: 100,000 failures of 6 kinds, each with its own file name in paths and messages
const dir = path.join(ROOT, 'test', 'fixtures', 'tracebacks');
const kinds = ['keyerror', 'fnf', 'npbroadcast', 'nested', 'nploadtxt', 'during'].map((k) => fs.readFileSync(path.join(dir, `${k}.txt`), 'utf8'));
const lines = [];
for (let i = 0; i < N; i++) {
  const name = `field_${String(i).padStart(6, '0')}`;
  const tail = kinds[i % kinds.length].replace(/field_0042/g, name);
  lines.push(JSON.stringify({
    index: i + 1, file: `data/${name}.fits`, slot: 1 + (i % 4), status: 'failed', attempts: 1, start: 0, end: 1, wallMs: 1,
    exitCode: 1, signal: null, cpuUserSec: 0, cpuSysSec: 0, maxRssKb: 50000, stdoutTail: '', stderrTail: tail,
    stdoutLog: `logs/${name}.out`, stderrLog: `logs/${name}.err`, threadEnv: {}, mode: 'cold', fp: 'x', session: 's',
  }));
}
const records = lines.map((l) => JSON.parse(l));

// ---- grouping vs parsing, interleaved
const group = [];
const parse = [];
let groups;
for (let r = 0; r < ROUNDS; r++) {
  parse.push(cpuMs(() => {
    for (const l of lines) JSON.parse(l);
  }));
  group.push(cpuMs(() => {
    const g = new FailureGrouper();
    for (const rec of records) g.add(rec, failureSignature(rec));
    groups = g.groups();
  }));
}
const gMs = median(group);
const pMs = median(parse);
console.log(`grouping ${N.toLocaleString('en-US')} failures: ${groups.length} groups (${groups.map((g) => g.count).join(', ')})`);
console.log(`  grouping CPU ${gMs.toFixed(0)} ms (aim < 1000 ms: ${gMs < 1000 ? 'met' : 'MISSED'}); JSON.parse of the same journal lines ${pMs.toFixed(0)} ms; grouping / parse = ${(gMs / pMs).toFixed(2)}x`);

// ---- Explorer marks
const { DecorationIndex } = require(path.join(ROOT, 'out/extension/host/failures/decorationIndex.js'));
const cwd = '/work/project';
/** what VS Code hands the provider: a new string per request (Uri.fsPath), its hash not yet computed */
const fresh = (paths) => paths.map((p) => JSON.parse(JSON.stringify(p)));
const allPaths = records.map((rec) => `${cwd}/${rec.file}`);
const LOOK = { succeeded: ['✓', 'testing.iconPassed'], failed: ['✗', 'testing.iconFailed'], timedOut: ['⧗', 'testing.iconFailed'] };
/** a stand-in for vscode.FileDecoration + ThemeColor (the two objects the provider makes) */
const decorationOf = (m) => ({ badge: LOOK[m.status][0], tooltip: `Parallel Run: ${m.status} in the latest run — ${m.tooltip}`, color: { id: LOOK[m.status][1] }, propagate: false });
const half = records.map((r, i) => (i % 2 ? { ...r, status: 'succeeded', stderrTail: '' } : r));
const WINDOW = 2000;
const RERUN = 1000;
const t = { build: [], before: [], ended: [], rerun: [], window: [], all: [] };
for (let r = 0; r < ROUNDS; r++) {
  let marks;
  t.build.push(cpuMs(() => {
    marks = InputMarks.of(cwd, half);
  }));
  // before: every refresh made VS Code ask again for each file shown (worst case: all of them)
  const byFolder = new Map([[cwd, { marks }]]);
  const ask = fresh(allPaths);
  t.before.push(cpuMs(() => {
    let n = 0;
    for (const p of ask) {
      for (const f of [...byFolder.values()]) {
        const m = f.marks.get(p);
        if (m) {
          if (decorationOf(m)) n++;
          break;
        }
      }
    }
    if (n !== N) throw new Error(`looked up ${n} of ${N}`);
  }));
  // now: the live run's marks shown, then the run ends with those marks
  const index = new DecorationIndex(decorationOf);
  index.update([{ runDir: 'run', marks, live: true }], true);
  t.ended.push(cpuMs(() => {
    const need = index.update([{ runDir: 'run', marks, live: false }]);
    if (need !== 'context') throw new Error(need);
    index.failedPaths(10_000);
  }));
  // a re-run of 1,000 failed files that now succeed, named as they end; VS Code asks for each
  const fixedRecs = half.filter((_, i) => i % 2 === 0).slice(0, RERUN).map((rec) => ({ ...rec, status: 'succeeded' }));
  const fixedPaths = fixedRecs.map((rec) => `${cwd}/${rec.file}`);
  const askFixed = fresh(fixedPaths);
  t.rerun.push(cpuMs(() => {
    for (const rec of fixedRecs) marks.set(rec);
    for (const p of askFixed) if (!index.get(p) || index.get(p).badge !== '✓') throw new Error('not fixed');
  }));
  // another run became the latest: VS Code asks again for the files it shows
  const other = InputMarks.of(cwd, half);
  const askWindow = fresh(allPaths.slice(0, WINDOW));
  t.window.push(cpuMs(() => {
    if (index.update([{ runDir: 'other', marks: other, live: false }]) !== 'all') throw new Error('not all');
    for (const p of askWindow) index.get(p);
  }));
  const askAll = fresh(allPaths);
  t.all.push(cpuMs(() => {
    let n = 0;
    for (const p of askAll) if (index.get(p)) n++;
    if (n !== N) throw new Error(`looked up ${n} of ${N}`);
  }));
}
// peer: a stat per input, on real files (2,000, scaled to N)
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-bench-marks-'));
const real = [];
for (let i = 0; i < 2000; i++) {
  const f = path.join(tmp, `f${i}.fits`);
  fs.writeFileSync(f, '');
  real.push(f);
}
const stat = [];
for (let r = 0; r < ROUNDS; r++) stat.push(cpuMs(() => {
  for (const f of real) fs.statSync(f);
}));
fs.rmSync(tmp, { recursive: true, force: true });
const met = (ms) => (ms < 50 ? 'met' : 'MISSED');
const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
const sMs = (median(stat) * N) / real.length;
console.log(`Explorer marks for ${N.toLocaleString('en-US')} inputs (half failed), provider CPU per refresh (marks built in ${m.build.toFixed(1)} ms when a run is read):`);
console.log(`  a run ends (the marks it showed live):          ${m.ended.toFixed(2).padStart(7)} ms (aim < 50 ms: ${met(m.ended)})`);
console.log(`  ${RERUN.toLocaleString('en-US')} failed files re-run, now succeeded:        ${m.rerun.toFixed(2).padStart(7)} ms (aim < 50 ms: ${met(m.rerun)})`);
console.log(`  another run is the latest, ${WINDOW.toLocaleString('en-US')} files shown:      ${m.window.toFixed(2).padStart(7)} ms (aim < 50 ms: ${met(m.window)})`);
console.log(`  worst case, all ${N.toLocaleString('en-US')} asked:                  ${m.all.toFixed(2).padStart(7)} ms (aim < 50 ms: ${met(m.all)})`);
console.log(`  before: every refresh, all ${N.toLocaleString('en-US')} shown, asked again: ${m.before.toFixed(2).padStart(7)} ms; a run ending is ${(m.before / Math.max(m.ended, 0.01)).toFixed(0)}x cheaper now, the worst case ${(m.before / m.all).toFixed(2)}x`);
console.log(`  a stat per input would take ~${sMs.toFixed(0)} ms`);
