/**
 * The warm host forks its children with libc's fork (not os.fork, whose after-fork work cost ~5 ms per
 * child here). These tests pin what that must not change: every child starts like a fresh interpreter
 * (own random seed, at-fork hooks of imported modules run, signal dispositions, non-daemon threads
 * joined), in both fork modes; and a cancel, a timeout or a halt of a warm run stops the host's tasks
 * (the runner signals the host, which has no per-task message giving the runner the pid any more).
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { startRun } from '../../extension/core/run/engine';
import { RunOptions, RunReport } from '../../extension/core/run/types';
import { alive, collect, FIXTURES, PYTHON, ROOT, sleep, tmpDir, twoTrees, WORKERS_DIR, writeFiles } from './engineHelpers';

const PROBE = `
import json, os, random, signal, sys, threading, time
import forkhook

def late():
    time.sleep(0.2)
    print("late thread done", flush=True)

threading.Thread(target=late).start()  # non-daemon: the interpreter waits for it at exit

def code_anon_kb():
    """Private (anonymous) KiB in the interpreter's executable file mappings."""
    total, in_code = 0, False
    for line in open("/proc/self/smaps"):
        f = line.split()
        if "-" in f[0] and len(f) >= 5 and ":" not in f[0]:
            in_code = len(f) >= 6 and f[1] == "r-xp" and "python" in f[5].rsplit("/", 1)[-1]
        elif in_code and f[0] == "Anonymous:":
            total += int(f[1])
    return total
print(json.dumps({
    "rnd": random.random(),
    "hook": forkhook.child_pid == os.getpid(),
    "sigint": signal.getsignal(signal.SIGINT) is signal.default_int_handler,
    "sigterm": signal.getsignal(signal.SIGTERM) == signal.SIG_DFL,
    "sigusr1": signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL,
    "sigpipe": signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN,
    "seq": os.environ["PARALLEL_SEQ"],
    "main": __name__,
    "argv": sys.argv[1:],
    "fds": sorted(os.listdir("/proc/self/fd")),
    "codeAnonKb": code_anon_kb(),
}), flush=True)
`;

// a module that registers an at-fork hook, as some libraries do to reset state in forked children
const FORKHOOK = `
import os
child_pid = None

def _after_in_child():
    global child_pid
    child_pid = os.getpid()

os.register_at_fork(after_in_child=_after_in_child)
`;

function opts(dir: string, over: Partial<RunOptions>): RunOptions {
  return {
    command: { kind: 'python', python: PYTHON, script: path.join(dir, 'probe.py'), args: ['x'], warm: true },
    files: { kind: 'globs', patterns: ['in/*.txt'], cwd: dir },
    cwd: dir,
    outDir: path.join(dir, 'run'),
    workersDir: WORKERS_DIR,
    workers: 2,
    ...over,
  };
}

function probeLines(dir: string, r: RunReport, sub: string): Array<Record<string, unknown>> {
  return [...r.tasks]
    .sort((a, b) => a.index - b.index)
    .map((t) => {
      const out = fs.readFileSync(path.join(dir, sub, t.stdoutLog), 'utf8').trim().split('\n');
      assert.strictEqual(out[out.length - 1], 'late thread done', `${t.file}: the non-daemon thread was joined before exit`);
      return JSON.parse(out[0]);
    });
}

describe('engine: warm children are forked like fresh interpreters', function () {
  this.timeout(90_000);

  it('own random seed, at-fork hooks run, signals, open fds and __main__ as cold, code mappings shared, in both fork modes', async () => {
    const dir = tmpDir('pr-warmfork-');
    const files: Record<string, string> = { 'probe.py': PROBE, 'forkhook.py': FORKHOOK };
    for (let i = 0; i < 6; i++) files[`in/${i}.txt`] = String(i);
    writeFiles(dir, files);
    const cold = await collect(await startRun(opts(dir, { outDir: path.join(dir, 'cold'), command: { kind: 'python', python: PYTHON, script: path.join(dir, 'probe.py'), args: ['x'], warm: false } })));
    const raw = await collect(await startRun(opts(dir, { outDir: path.join(dir, 'raw') })));
    const osFork = await collect(await startRun(opts(dir, { outDir: path.join(dir, 'osfork'), env: { PARALLEL_RUN_WARM_TRICKS: 'pools' } })));
    for (const r of [cold, raw, osFork]) assert.strictEqual(r.report.counts.succeeded, 6, JSON.stringify(r.report.failures));
    const c = probeLines(dir, cold.report, 'cold');
    for (const [name, r, sub] of [['libc fork', raw, 'raw'], ['os.fork', osFork, 'osfork']] as const) {
      const w = probeLines(dir, r.report, sub);
      assert.strictEqual(new Set(w.map((l) => l.rnd)).size, 6, `${name}: every child has its own random state: ${w.map((l) => l.rnd)}`);
      for (let i = 0; i < 6; i++) {
        assert.strictEqual(w[i].hook, true, `${name}: the imported module's after_in_child hook ran in child ${i}`);
        // the same open fds (the host's protocol pipes and its stderr are closed in the child)
        for (const k of ['sigint', 'sigterm', 'sigusr1', 'sigpipe', 'seq', 'main', 'argv', 'fds']) {
          assert.deepStrictEqual(w[i][k], c[i][k], `${name}, file ${i}: ${k} as in a fresh interpreter`);
        }
      }
    }
    assert.ok(c.every((l) => l.sigint && l.sigterm && l.sigusr1 && l.sigpipe && l.main === '__main__'), JSON.stringify(c));
    // fork copied the page-table entries of the interpreter's code (see share_code_mappings in
    // warm_host.py): its code mapping carries the one private page the host wrote back in place; a cold
    // interpreter's code mapping has none, nor has a host told not to (PARALLEL_RUN_WARM_TRICKS without "code")
    assert.ok(c.every((l) => l.codeAnonKb === 0), `cold: ${c.map((l) => l.codeAnonKb)}`);
    const shared = probeLines(dir, raw.report, 'raw').map((l) => l.codeAnonKb as number);
    assert.ok(shared.every((kb) => kb > 0), `warm: ${shared}`);
    const off = probeLines(dir, osFork.report, 'osfork').map((l) => l.codeAnonKb as number);
    assert.ok(off.every((kb) => kb === 0), `warm, PARALLEL_RUN_WARM_TRICKS=pools: ${off}`);
  });

  it('cancel: the hosts stop their tasks (SIGTERM, SIGKILL after the grace for one that ignores it), nothing more starts, no grandchild left', async () => {
    const dir = tmpDir('pr-warmfork-');
    const pidFile = path.join(dir, 'pids');
    writeFiles(dir, { 'in/1-stubborn.txt': '', 'in/2.txt': '', 'in/3.txt': '', 'in/4.txt': '' });
    const ac = new AbortController();
    const h = await startRun(opts(dir, { command: { kind: 'python', python: PYTHON, script: path.join(FIXTURES, 'spawn_tree.py'), args: [pidFile], warm: true }, signal: ac.signal }));
    const done = collect(h);
    const pids = await twoTrees(pidFile, 30_000);
    assert.ok(pids, 'two tasks started their trees');
    assert.strictEqual(pids.length, 6);
    ac.abort();
    const { report } = await done;
    assert.strictEqual(report.status, 'cancelled');
    assert.strictEqual(report.counts.cancelled, 2);
    assert.strictEqual(report.counts.succeeded + report.counts.failed, 0, 'nothing ran after the cancel');
    assert.deepStrictEqual(report.notes, []);
    await sleep(2000);
    assert.deepStrictEqual(pids.filter(alive), [], 'tasks (the SIGTERM-ignoring one included) and grandchildren are gone');
  });

  it('timeout and halt of warm tasks', async () => {
    const dir = tmpDir('pr-warmfork-');
    const script = `
import sys, time
name = open(sys.argv[1]).read()
if name == "slow":
    time.sleep(60)
if name == "bad":
    sys.exit(5)
print("ok", name)
`;
    writeFiles(dir, { 's.py': script, 'in/a.txt': 'slow', 'in/b.txt': 'fine', 'in/c.txt': 'fine' });
    const timed = (await collect(await startRun(opts(dir, { command: { kind: 'python', python: PYTHON, script: path.join(dir, 's.py'), args: [], warm: true }, timeoutSec: 1, retries: 1 })))).report;
    const slow = timed.tasks.find((t) => t.file.endsWith('a.txt'))!;
    assert.strictEqual(slow.status, 'timedOut');
    assert.strictEqual(slow.attempts, 2, 'retried once, timed out again');
    assert.strictEqual(timed.counts.succeeded, 2);
    assert.strictEqual(timed.status, 'failed');

    // the failing task fails only once a slow one runs (so the halt has a running task to stop)
    const haltScript = `
import glob, os, sys, time
name = open(sys.argv[1]).read()
if name == "slow":
    open(sys.argv[1] + ".started", "w").close()
    time.sleep(60)
if name == "bad":
    end = time.time() + 30
    while not glob.glob(os.path.join(os.path.dirname(sys.argv[1]), "*.started")) and time.time() < end:
        time.sleep(0.05)
    sys.exit(5)
print("ok", name)
`;
    const hdir = tmpDir('pr-warmfork-');
    const many: Record<string, string> = { 's.py': haltScript, 'in/00.txt': 'bad' };
    for (let i = 1; i < 12; i++) many[`in/${String(i).padStart(2, '0')}.txt`] = i < 3 ? 'slow' : 'fine';
    writeFiles(hdir, many);
    const halted = (await collect(await startRun(opts(hdir, { command: { kind: 'python', python: PYTHON, script: path.join(hdir, 's.py'), args: [], warm: true }, halt: true, workers: 2 })))).report;
    assert.strictEqual(halted.status, 'halted');
    assert.strictEqual(halted.failures[0].exitCode, 5);
    assert.ok(halted.counts.done < 12, `stopped early (${halted.counts.done} of 12 done)`);
    assert.ok(halted.tasks.filter((t) => t.status === 'cancelled').length >= 1, 'the running slow task was stopped by its host');
  });

  it('one switch turns the low-level tricks on and off: PARALLEL_RUN_WARM_TRICKS (all, none, or a list; unset: the defaults)', () => {
    const probe = `
import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'media', 'python'))})
import warm_host
print(json.dumps({"on": sorted(warm_host._tricks), "defaults": sorted(warm_host.DEFAULT_TRICKS), "fork": warm_host.choose_fork()[1]}))
`;
    const on = (v?: string) => {
      const env = { ...process.env };
      delete env.PARALLEL_RUN_WARM_TRICKS;
      if (v !== undefined) env.PARALLEL_RUN_WARM_TRICKS = v;
      return JSON.parse(execFileSync(PYTHON, ['-c', probe], { encoding: 'utf8', env }));
    };
    const unset = on();
    assert.deepStrictEqual(unset.on, unset.defaults);
    assert.deepStrictEqual(on('all').on, ['code', 'fork', 'pools']);
    assert.deepStrictEqual(on('none').on, []);
    assert.deepStrictEqual(on(' Fork, code ,nonsense').on, ['code', 'fork'], 'a list, any case and spacing; unknown names ignored');
    assert.strictEqual(on('all').fork, 'raw');
    assert.strictEqual(on('pools,code').fork, 'os', 'without "fork": os.fork');
  });

  it('the host fills the holes of the small-object allocator, so later allocations are packed into fresh pools', () => {
    // 3,000 objects of one size class, one in 100 freed: 30 holes spread over ~25 pools (16 KiB each).
    // Without the fill, 20 new objects of that class go into those holes, far apart; after it, they come
    // from one fresh pool (each page an allocation writes is a copy-on-write fault after a fork).
    const probe = `
import json, os, sys
sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'media', 'python'))})
import warm_host
keep = [bytes(100) for _ in range(3000)]
del keep[::100]
filled = warm_host.fill_pools()
objs = [bytes(100) for _ in range(20)]
ids = sorted(id(o) for o in objs)
print(json.dumps({"filled": filled, "span": ids[-1] - ids[0]}))
`;
    const run = (tricks: string) => JSON.parse(execFileSync(PYTHON, ['-c', probe], { encoding: 'utf8', env: { ...process.env, PARALLEL_RUN_WARM_TRICKS: tricks } }));
    const on = run('pools');
    assert.ok(on.filled >= 30, `fillers made: ${on.filled}`);
    assert.ok(on.span < 16384, `after the fill, 20 new objects lie within one pool: span ${on.span} bytes`);
    const off = run('fork,code');
    assert.strictEqual(off.filled, 0, 'off when PARALLEL_RUN_WARM_TRICKS leaves "pools" out');
    assert.ok(off.span > 16384, `without it, they land in the holes, pools apart: span ${off.span} bytes`);
  });
});
