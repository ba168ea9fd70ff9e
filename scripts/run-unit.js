#!/usr/bin/env node
// Unit layer: plain Node mocha over out/test/unit/**/*.test.js (compiled by tsc).
// Writes {passes, failures} JSON to the path in argv[2] (for scripts/test-all.js).
'use strict';
const fs = require('fs');
const path = require('path');
const Mocha = require('mocha');

const ROOT = path.resolve(__dirname, '..');
const resultsFile = process.argv[2];

function findTests(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return findTests(p);
    return e.name.endsWith('.test.js') ? [p] : [];
  });
}

const mocha = new Mocha({ ui: 'bdd', timeout: 120000, color: process.stdout.isTTY, reporter: 'spec' });
if (process.env.PR_TEST_GREP) mocha.grep(new RegExp(process.env.PR_TEST_GREP));
const files = process.env.PR_TEST_FILES
  ? process.env.PR_TEST_FILES.split(',').map((f) => path.resolve(f))
  : findTests(path.join(ROOT, 'out', 'test', 'unit')).sort();
files.forEach((f) => mocha.addFile(f));
const results = { passes: [], failures: [] };
const timings = [];
const runner = mocha.run((failures) => {
  // the slowest tests, so CI time can be watched (no thresholds: information only)
  timings.sort((a, b) => b[1] - a[1]);
  console.log('slowest unit tests:');
  for (const [title, ms] of timings.slice(0, 20)) console.log(`  ${(ms / 1000).toFixed(1)} s  ${title}`);
  if (resultsFile) fs.writeFileSync(resultsFile, JSON.stringify(results, null, 2));
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
