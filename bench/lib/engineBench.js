// Shared by the engine benchmarks: temp inputs, timing of real commands, peak RSS.
'use strict';
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();

function tmp(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** n empty input files in dir/in, plus a list file; returns the list path. */
function makeInputs(dir, n, content = '') {
  fs.mkdirSync(path.join(dir, 'in'), { recursive: true });
  const names = [];
  for (let i = 1; i <= n; i++) {
    const f = path.join('in', `f${String(i).padStart(6, '0')}.txt`);
    fs.writeFileSync(path.join(dir, f), content);
    names.push(f);
  }
  const list = path.join(dir, 'list.txt');
  fs.writeFileSync(list, names.join('\n') + '\n');
  return list;
}

/** CPU seconds (user + system) of our waited-for descendants so far (Linux /proc/self/stat). */
function childrenCpuSec() {
  try {
    const f = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return NaN;
  }
}

/** Runs a command (argv array, optional stdin file), resolves {ms, cpuSec, code}; env, when given, is
 *  the whole environment. cpuSec counts the whole waited-for process tree: load-independent, unlike
 *  wall time on a busy machine. */
function time(argv, { cwd, stdinFile, env } = {}) {
  return new Promise((resolve, reject) => {
    const cpu0 = childrenCpuSec();
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), {
      cwd,
      env: env || process.env, // the whole environment when given (a variable can be left out)
      stdio: [stdinFile ? fs.openSync(stdinFile, 'r') : 'ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err = (err + d).slice(-2000)));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, cpuSec: childrenCpuSec() - cpu0, code, stderr: err }));
  });
}

async function best(n, fn) {
  let b;
  for (let i = 0; i < n; i++) {
    const r = await fn(i);
    if (!b || r.ms < b.ms) b = r;
  }
  return b;
}

function have(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Load average over the last minute, to print next to timings (a busy machine skews wall times). */
function loadNote() {
  const os = require('os');
  return `load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`;
}

/** Peak resident memory (VmHWM, KiB) of a live process; 0 once it is gone. */
function hwmKb(pid) {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  } catch {
    return 0;
  }
}

/**
 * Runs `parallel-run ARGS --json` in `cwd` (stopped after `seconds` unless undefined) and watches it:
 * when its first task started, how many finished, the runner's peak RSS (KiB) and the wall time (ms).
 */
async function watchCliRun(args, cwd, seconds) {
  const readline = require('readline');
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [CLI, 'run', '--json', ...args], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  let firstMs;
  let done = 0;
  let peakKb = 0;
  const poll = setInterval(() => (peakKb = Math.max(peakKb, hwmKb(child.pid))), 200);
  readline.createInterface({ input: child.stdout }).on('line', (l) => {
    if (firstMs === undefined && l.includes('"taskStarted"')) firstMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (l.includes('"taskFinished"')) done++;
  });
  const stopper = seconds === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), seconds * 1000);
  await new Promise((r) => child.on('exit', r));
  clearInterval(poll);
  clearTimeout(stopper);
  return { firstMs, done, peakKb, wallMs: Number(process.hrtime.bigint() - t0) / 1e6 };
}

module.exports = { ROOT, CLI, PYTHON, tmp, makeInputs, time, best, have, loadNote, hwmKb, watchCliRun };
