// Failure groups and Explorer marks at scale, on records shaped like a real run's journal:
//   grouping   100,000 failed records (real Python tracebacks from test/fixtures/tracebacks, with
//              per-file paths and numbers in them): parse each traceback, make its signature,
//              group. Aim: under 1 s of runner CPU. Peer: JSON.parse of the same journal lines
//              (what reading them costs anyway), interleaved rounds.
//   marks      100,000 inputs: build the path -> mark map from the records, then one lookup per
//              input (what the Explorer asks when every file is shown). Aim: under 50 ms per
//              refresh. Peer: one fs.statSync per input (what a provider that looked at files
//              would do), measured on 2,000 real files and scaled.
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
const cwd = '/work/project';
/** what VS Code hands the provider: a new string per request (Uri.fsPath), its hash not yet computed */
const freshPaths = () => records.map((rec) => `${cwd}/${rec.file.slice(0, 5)}${rec.file.slice(5)}`);
const VISIBLE = 2000;
const build = [];
const lookup = [];
const visible = [];
for (let r = 0; r < ROUNDS; r++) {
  let marks;
  build.push(cpuMs(() => {
    marks = InputMarks.of(cwd, records);
  }));
  const all = freshPaths();
  lookup.push(cpuMs(() => {
    let n = 0;
    for (const p of all) if (marks.get(p)) n++;
    if (n !== N) throw new Error(`looked up ${n} of ${N}`);
  }));
  const shown = freshPaths().slice(0, VISIBLE);
  visible.push(cpuMs(() => {
    for (const p of shown) marks.get(p);
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
const bMs = median(build);
const lMs = median(lookup);
const vMs = median(visible);
const sMs = (median(stat) * N) / real.length;
console.log(`Explorer marks for ${N.toLocaleString('en-US')} inputs: built in ${bMs.toFixed(1)} ms when a run ends (a live run adds each file as it ends)`);
console.log(`  refresh of a window of ${VISIBLE.toLocaleString('en-US')} shown files ${vMs.toFixed(2)} ms (aim < 50 ms: ${vMs < 50 ? 'met' : 'MISSED'})`);
console.log(`  worst case, every one of the ${N.toLocaleString('en-US')} inputs shown: ${lMs.toFixed(1)} ms (aim < 50 ms: ${lMs < 50 ? 'met' : 'MISSED'}); a stat per input would take ~${sMs.toFixed(0)} ms: stat / lookup = ${(sMs / lMs).toFixed(1)}x`);
