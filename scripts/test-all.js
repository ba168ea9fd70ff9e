#!/usr/bin/env node
// `npm test`: build, then the three layers — unit (plain Node), integration (real VS Code
// extension host in code-server), e2e (Playwright + Chromium on the packaged .vsix) — and one
// closing line "N passed, N failed" summing them all. Exit non-zero if anything failed OR a layer
// did not run / did not report.
//   --only unit|integration|e2e   run one layer      --no-build   skip the build
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
const resultsDir = path.join(ROOT, 'test-results');
fs.mkdirSync(resultsDir, { recursive: true });

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts });
  return r.status === null ? 128 : r.status;
}
function banner(s) { console.log(`\n===== ${s} =====`); }

const tStart = Date.now();
if (!argv.includes('--no-build')) {
  banner('build');
  const npx = path.join(ROOT, 'node_modules', '.bin');
  // two type programs: the Node side (core, host, workers, CLI, tests; no DOM) emits out/; the
  // webviews (DOM, no Node types) are type-checked only, webpack bundles them
  const tsc = path.join(npx, 'tsc');
  if (run(path.join(npx, 'webpack'), ['--mode', 'production']) !== 0 || run(tsc, ['-p', '.']) !== 0 || run(tsc, ['-p', 'extension/webview']) !== 0) {
    console.log('build failed\n0 passed, 1 failed');
    process.exit(1);
  }
  console.log(`build: ${((Date.now() - tStart) / 1000).toFixed(0)} s`);
}

// The Slurm tests need a real cluster; start one (idempotent) when the project has the script. A
// cluster started during this run (here or by a layer's own tests) is stopped at the end; one that
// was running before is left running.
function slurmRunning() {
  const pidFile = path.join(process.env.SLURM_CI_DIR || '/tmp/parallel-run-slurm', 'run', 'slurmctld.pid');
  try {
    process.kill(Number(fs.readFileSync(pidFile, 'utf8').trim()), 0);
    return true;
  } catch {
    return false;
  }
}
function startSlurm() {
  const script = path.join(ROOT, 'scripts', 'slurm-start.sh');
  if (!fs.existsSync(script)) return;
  banner('slurm cluster');
  if (run('bash', [script]) !== 0) console.log('WARNING: slurm-start.sh failed; the Slurm tests will fail');
}
const slurmBefore = slurmRunning();
function stopSlurm() {
  if (slurmBefore || !slurmRunning() || process.env.PR_TEST_KEEP_SLURM === '1') return;
  banner('slurm cluster (stopping the one this run started; PR_TEST_KEEP_SLURM=1 keeps it)');
  if (run('bash', [path.join(ROOT, 'scripts', 'slurm-stop.sh')]) !== 0) console.log('WARNING: slurm-stop.sh failed');
}

const layers = [
  { name: 'unit', before: startSlurm, cmd: () => [process.execPath, [path.join(ROOT, 'scripts', 'run-unit.js'), path.join(resultsDir, 'unit.json')]], results: 'unit.json' },
  // integration = several launches of the real extension host (trusted main suites, an untrusted
  // window, a stand-in Python extension); runTest.js merges their results into integration.json
  { name: 'integration', cmd: () => [process.execPath, [path.join(ROOT, 'out', 'test', 'integration', 'runTest.js')]], results: 'integration.json',
    env: { VSCODE_TEST_RESULTS_FILE: path.join(resultsDir, 'integration.json') } },
  { name: 'e2e', cmd: () => [process.execPath, [path.join(ROOT, 'out', 'test', 'e2e', 'run.js'), path.join(resultsDir, 'e2e.json')]], results: 'e2e.json' },
];

let passed = 0; let failed = 0;
const summary = [];

/** Starts a layer; resolves to { layer, code, secs, log? } when it ends. With `capture` its output
 * goes to a file (printed when it ends, not interleaved with the layer running alongside). */
function startLayer(layer, capture) {
  banner(`${layer.name} tests${capture ? ' (started; runs alongside, output below when it ends)' : ''}`);
  fs.rmSync(path.join(resultsDir, layer.results), { force: true }); // never count a stale result
  if (layer.before) layer.before();
  const [cmd, args] = layer.cmd();
  const env = { ...process.env, ...(layer.env || {}) };
  const t0 = Date.now();
  const secs = () => ((Date.now() - t0) / 1000).toFixed(0);
  if (!capture) return Promise.resolve({ layer, code: run(cmd, args, { env }), secs: secs() });
  const logFile = path.join(resultsDir, `${layer.name}.log`);
  const fd = fs.openSync(logFile, 'w');
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', fd, fd] });
  return new Promise((resolve) => child.on('close', (code) => {
    fs.closeSync(fd);
    resolve({ layer, code: code === null ? 128 : code, secs: secs(), log: fs.readFileSync(logFile, 'utf8') });
  }));
}

function collect({ layer, code, secs, log }) {
  if (log !== undefined) {
    banner(`${layer.name} tests (output; ran alongside)`);
    process.stdout.write(log);
  }
  let p = 0; let f = 0;
  try {
    const r = JSON.parse(fs.readFileSync(path.join(resultsDir, layer.results), 'utf8'));
    p = r.passes.length; f = r.failures.length;
    for (const x of r.failures) console.log(`  FAILED [${layer.name}] ${x.title}: ${x.error}`);
  } catch {
    f = 1; // a layer that did not report counts as a failure
    console.log(`  FAILED [${layer.name}] the layer did not report results (exit ${code})`);
  }
  if (code !== 0 && f === 0) { f = 1; console.log(`  FAILED [${layer.name}] exited with ${code}`); }
  passed += p; failed += f;
  summary.push(`${layer.name}: ${p} passed, ${f} failed (${secs} s)`);
}

(async () => {
  const wanted = layers.filter((l) => !only || l.name === only);
  // e2e (Chromium on its own code-server) runs alongside integration (another code-server): both
  // spend most of their time waiting on UIs and real runs, and neither asserts timings, so on two
  // cores this saves minutes of CI time. PR_TEST_SERIAL=1 runs the layers one after another.
  const alongside = process.env.PR_TEST_SERIAL !== '1' && wanted.some((l) => l.name === 'integration') && wanted.some((l) => l.name === 'e2e');
  for (const layer of wanted) {
    if (alongside && layer.name === 'e2e') continue;
    if (alongside && layer.name === 'integration') {
      const e2e = startLayer(layers.find((l) => l.name === 'e2e'), true);
      collect(await startLayer(layer, false));
      collect(await e2e);
      continue;
    }
    collect(await startLayer(layer, false));
  }
  stopSlurm();
  banner('summary');
  summary.forEach((s) => console.log(s));
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
})();
