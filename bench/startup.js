// Start-up: how much code loads, and how soon a CLI run's first task starts.
//
// 1. Code loaded: the bundle files (dist/*.js, dist/chunks/*.js) each entry point requires, read from
//    require.cache: the CLI's `run`, `sweep --help`, `matrix --help`, and the extension's activation
//    (dist/extension.js activated against a stand-in `vscode` module that accepts every call, so what
//    activate() loads is what VS Code would load; chunks loaded in the 1.5 s after it count too).
//    Aim: activation under 400 KB.
// 2. First task: the time from spawning `node dist/cli.js run -j 1 -- sh -c 'date +%s%N' sh {} ::: x`
//    to the task's own clock reading (date prints the wall clock when it starts; sh adds ~1 ms), against a bare `node -e 0` from
//    spawn to exit, in interleaved rounds (BENCH_ROUNDS, default 15), medians. Aim: within 30 ms.
//
// Needs the build (npx webpack --mode production, or development).
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { ROOT, CLI, tmp, loadNote } = require('./lib/engineBench');

const DIST = path.join(ROOT, 'dist');
const ROUNDS = Number(process.env.BENCH_ROUNDS || 15);

/** A script run with `node -r` that prints, at exit, the dist files the process loaded. */
const LOADED_HOOK = `if (require('worker_threads').isMainThread) process.on('exit', () => { const d = ${JSON.stringify(DIST + path.sep)}; process.stderr.write('\\nLOADED ' + JSON.stringify(Object.keys(require.cache).filter((f) => f.startsWith(d)).map((f) => f.slice(d.length))) + '\\n'); });`;

/** The stand-in `vscode` module: every property is a callable, constructible, assignable stand-in. */
const ACTIVATE = `
const Module = require('module');
function stub() {
  const store = new Map();
  return new Proxy(function () {}, {
    set(_t, p, v) { store.set(p, v); return true; },
    defineProperty(_t, p, d) { store.set(p, d.value); return true; },
    get(_t, p) {
      if (store.has(p)) return store.get(p);
      if (p === 'then') return undefined;
      if (p === 'toJSON') return () => ({});
      if (p === Symbol.toPrimitive) return () => 0;
      if (p === Symbol.iterator) return function* () {};
      if (p === 'length') return 0;
      return stub();
    },
    apply() { return stub(); },
    construct() { return stub(); },
  });
}
const vscode = stub();
const load = Module._load;
Module._load = function (req) { return req === 'vscode' ? vscode : load.apply(this, arguments); };
const ext = require(${JSON.stringify(path.join(DIST, 'extension.js'))});
ext.activate({ subscriptions: [], extensionPath: ${JSON.stringify(ROOT)}, extensionUri: stub(), globalState: stub(), workspaceState: stub(), globalStorageUri: stub(), storageUri: undefined, environmentVariableCollection: stub(), secrets: stub(), logUri: stub(), extensionMode: 1 });
setTimeout(() => process.exit(0), 1500);
`;

function loadedBy(args, cwd) {
  const hook = path.join(cwd, 'loaded-hook.js');
  fs.writeFileSync(hook, LOADED_HOOK);
  const r = spawnSync(process.execPath, ['-r', hook, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  const m = /\nLOADED (.*)\n/.exec(r.stderr || '');
  if (!m) throw new Error(`no list of loaded files from ${args.join(' ')} (exit ${r.status}): ${(r.stderr || '').slice(-500)}`);
  const files = JSON.parse(m[1]);
  return { files, kb: files.reduce((n, f) => n + fs.statSync(path.join(DIST, f)).size, 0) / 1024 };
}

/** ms from spawn to the first task's clock reading (date +%s%N), one CLI run. */
function firstTaskMs(cwd, n, env = process.env) {
  return new Promise((resolve, reject) => {
    const out = path.join(cwd, `o${n}`);
    const wall0 = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    const child = spawn(process.execPath, [CLI, 'run', '-j', '1', '--quiet', '--out', out, '--', 'sh', '-c', 'date +%s%N', 'sh', '{}', ':::', 'x'], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`run failed (${code}): ${err.slice(-500)}`));
      const logs = path.join(out, 'logs');
      const log = fs.readdirSync(logs).find((f) => f.endsWith('.out'));
      const taskNs = BigInt(fs.readFileSync(path.join(logs, log), 'utf8').trim());
      fs.rmSync(out, { recursive: true, force: true });
      resolve(Number(taskNs - wall0) / 1e6);
    });
  });
}

/** ms from spawn to exit of a bare `node -e 0`. */
function bareNodeMs() {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(Number(process.hrtime.bigint() - t0) / 1e6));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js missing: build first (npx webpack --mode production)');
  const dir = tmp('pr-bench-startup-');
  try {
    console.log(`startup (${loadNote()})`);
    console.log('\nbundle files:');
    const chunkDir = path.join(DIST, 'chunks');
    const all = ['extension.js', 'cli.js', ...(fs.existsSync(chunkDir) ? fs.readdirSync(chunkDir).filter((f) => f.endsWith('.js')).map((f) => `chunks/${f}`) : [])];
    for (const f of all) console.log(`  ${(fs.statSync(path.join(DIST, f)).size / 1024).toFixed(0).padStart(6)} KB  ${f}`);

    console.log('\ncode loaded:');
    fs.writeFileSync(path.join(dir, 'activate.js'), ACTIVATE);
    const act = loadedBy([path.join(dir, 'activate.js')], dir);
    const run = loadedBy([CLI, 'run', '-j', '1', '--quiet', '--out', path.join(dir, 'loaded'), '--', 'true', ':::', 'x'], dir);
    const sweep = loadedBy([CLI, 'sweep', '--help'], dir);
    const matrix = loadedBy([CLI, 'matrix', '--help'], dir);
    for (const [what, r] of [['extension activation', act], ['cli run', run], ['cli sweep --help', sweep], ['cli matrix --help', matrix]]) {
      console.log(`  ${what.padEnd(22)} ${r.kb.toFixed(0).padStart(6)} KB  (${r.files.join(', ')})`);
    }
    console.log(`  activation: ${act.kb.toFixed(0)} KB (aim: under 400 KB) ${act.kb < 400 ? 'met' : 'NOT met'}`);

    // warm the file cache, then interleave: a bare node, a CLI run, ...
    await bareNodeMs();
    await firstTaskMs(dir, 0);
    // PARALLEL_RUN_SPAWN_VIA=node: Node spawns the task itself, no Python host measuring it (what the
    // host's start costs the first task)
    const viaNode = { ...process.env, PARALLEL_RUN_SPAWN_VIA: 'node' };
    const bare = [];
    const first = [];
    const firstViaNode = [];
    for (let i = 1; i <= ROUNDS; i++) {
      bare.push(await bareNodeMs());
      first.push(await firstTaskMs(dir, i));
      firstViaNode.push(await firstTaskMs(dir, i, viaNode));
    }
    const b = median(bare);
    const f = median(first);
    const fn = median(firstViaNode);
    console.log(`\nfirst task of a CLI run, ${ROUNDS} interleaved rounds (medians):`);
    console.log(`  node -e 0 (spawn to exit)            ${b.toFixed(1)} ms`);
    console.log(`  parallel-run run: spawn to 1st task  ${f.toFixed(1)} ms`);
    console.log(`  the same, spawned by Node (no host)   ${fn.toFixed(1)} ms (${(fn - b).toFixed(1)} ms after node -e 0)`);
    console.log(`  first task - node -e 0: ${(f - b).toFixed(1)} ms (aim: within 30 ms) ${f - b <= 30 ? 'met' : 'NOT met'}; ratio ${(f / b).toFixed(2)}x`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
