#!/usr/bin/env node
// Unit layer: plain Node mocha over out/test/unit/**/*.test.js (compiled by tsc).
// Writes {passes, failures} JSON to the path in argv[2] (for scripts/test-all.js).
//
// The real-Slurm suites spend their time waiting for the cluster's scheduler, not on the CPU, so
// they run in a second mocha process alongside the rest (their output is printed after the main
// group's, not interleaved). PR_TEST_FILES (comma-separated) runs just those files, in-process.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const Mocha = require('mocha');

const ROOT = path.resolve(__dirname, '..');
const resultsFile = process.argv[2];
/** Files whose tests mostly wait: on the Slurm scheduler, on a code-server host to start and exit, on
 * sleeping tasks to be killed, timed out or resumed (each looks only at its own run's processes). */
const SIDE_GROUP = /[/\\](slurm[^/\\]*|harness|cli|engine)\.test\.js$/;

function findTests(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return findTests(p);
    return e.name.endsWith('.test.js') ? [p] : [];
  });
}

/** The side group: this script again on those files, output to a file; resolves to its results. */
function startSideGroup(files) {
  if (files.length === 0) return Promise.resolve({ passes: [], failures: [], log: '', timings: [] });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-unit-side-'));
  const out = path.join(dir, 'results.json');
  const logFile = path.join(dir, 'log.txt');
  const fd = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, [__filename, out], {
    env: { ...process.env, PR_TEST_FILES: files.join(','), PR_UNIT_SIDE: '1' },
    stdio: ['ignore', fd, fd],
  });
  return new Promise((resolve) => {
    child.on('close', (code) => {
      fs.closeSync(fd);
      const log = fs.readFileSync(logFile, 'utf8');
      let r;
      try { r = JSON.parse(fs.readFileSync(out, 'utf8')); } catch { r = { passes: [], failures: [{ title: `unit side group (${files.map((f) => path.basename(f)).join(', ')})`, error: `did not report results (exit ${code})` }] }; }
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ ...r, log, timings: r.timings || [] });
    });
  });
}

const all = process.env.PR_TEST_FILES
  ? process.env.PR_TEST_FILES.split(',').map((f) => path.resolve(f))
  : findTests(path.join(ROOT, 'out', 'test', 'unit')).sort();
const split = !process.env.PR_TEST_FILES;
const side = startSideGroup(split ? all.filter((f) => SIDE_GROUP.test(f)) : []);
const files = split ? all.filter((f) => !SIDE_GROUP.test(f)) : all;

const mocha = new Mocha({ ui: 'bdd', timeout: 120000, color: process.stdout.isTTY && !process.env.PR_UNIT_SIDE, reporter: 'spec' });
if (process.env.PR_TEST_GREP) mocha.grep(new RegExp(process.env.PR_TEST_GREP));
files.forEach((f) => mocha.addFile(f));
const results = { passes: [], failures: [] };
const timings = [];
const runner = mocha.run(async (failures) => {
  const s = await side;
  if (s.log) console.log(`\n----- unit tests run alongside (Slurm, integration launcher, CLI, engine) -----\n${s.log}`);
  results.passes.push(...s.passes);
  results.failures.push(...s.failures);
  timings.push(...s.timings);
  if (!process.env.PR_UNIT_SIDE) {
    // the slowest tests, so CI time can be watched (no thresholds: information only)
    timings.sort((a, b) => b[1] - a[1]);
    console.log('slowest unit tests:');
    for (const [title, ms] of timings.slice(0, 20)) console.log(`  ${(ms / 1000).toFixed(1)} s  ${title}`);
  }
  if (resultsFile) fs.writeFileSync(resultsFile, JSON.stringify(process.env.PR_UNIT_SIDE ? { ...results, timings } : results, null, 2));
  process.exitCode = failures > 0 || results.failures.length > 0 ? 1 : 0;
});
runner.on('pass', (t) => results.passes.push(t.fullTitle()));
runner.on('test end', (t) => timings.push([t.fullTitle(), t.duration || 0]));
// wall time per top-level suite, hooks included
const suiteStart = new Map();
runner.on('suite', (s) => { if (s.parent && s.parent.root) suiteStart.set(s, Date.now()); });
runner.on('suite end', (s) => { if (suiteStart.has(s)) timings.push([`[suite] ${s.title}`, Date.now() - suiteStart.get(s)]); });
runner.on('fail', (t, err) => results.failures.push({ title: t.fullTitle(), error: String(err && err.message) }));
runner.on('pending', (t) => results.failures.push({ title: t.fullTitle(), error: 'skipped tests are not allowed' }));
