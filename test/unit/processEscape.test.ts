/**
 * Processes that try to outlive their task, with the real CLI: each task starts
 *   setsid   - a child in a session of its own (out of reach of a kill of the task's process group),
 *   fork     - a child forked without exec that then leaves the group (in warm mode it has its host's
 *              command line, which the hosts used to spare when the runner died),
 *   daemon   - a double-forked daemon with an empty environment (`env -i`: no run marker; its parent
 *              exits, so it is re-parented),
 * and then waits. Whether the task times out, is cancelled (Ctrl-C) or its runner is SIGKILLed, all
 * three must end, in every way tasks are started (cold through the exec host, warm, spawned from
 * Node), with a cgroup per task and without (the hosts are child subreapers: orphans come back to
 * them). The cgroups a run makes are gone when it ends.
 */
import * as assert from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { createRunCgroup } from '../../extension/core/run/taskCgroup';
import { alive, CLI, PYTHON, tmpDir, waitFor, writeFiles } from './engineHelpers';

const ESCAPE = `
import os, subprocess, sys, time
pids = sys.argv[2]
def record(kind, pid):
    with open(pids, "a") as f:
        f.write("%s %d\\n" % (kind, pid))
with open(sys.argv[1] + ".cgroup", "w") as f:
    f.write(open("/proc/self/cgroup").read())
p = subprocess.Popen(["sleep", "300"], start_new_session=True)
record("setsid", p.pid)
pid = os.fork()
if pid == 0:
    os.setsid()
    time.sleep(300)
    os._exit(0)
record("fork", pid)
DAEMON = """
import os, sys, time
if os.fork(): sys.exit(0)
os.setsid()
if os.fork(): sys.exit(0)
with open(sys.argv[1], "a") as f:
    f.write("daemon %d\\\\n" % os.getpid())
time.sleep(300)
"""
subprocess.run(["env", "-i", sys.executable, "-c", DAEMON, pids], check=True)
if os.environ.get("ESCAPE_THEN_EXIT") != "1":
    time.sleep(300)
`;

type Mode = 'cold' | 'warm' | 'direct';
type Stop = 'timeout' | 'cancel' | 'crash';

interface Started {
  dir: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  pids: () => Array<[string, number]>;
}

function start(mode: Mode, cgroup: string, files: number, extra: string[] = [], env: Record<string, string> = {}): Started {
  const dir = tmpDir('pr-escape-');
  const inputs: Record<string, string> = { 'escape.py': ESCAPE };
  for (let i = 1; i <= files; i++) inputs[`in/${i}.txt`] = String(i);
  writeFiles(dir, inputs);
  const pidFile = path.join(dir, 'pids');
  const script = path.join(dir, 'escape.py');
  const what = mode === 'warm' ? ['--warm', '--script', script, '--', pidFile] : ['--', PYTHON, script, '{}', pidFile];
  const child = spawn(process.execPath, [CLI, 'run', '-j', String(files), '--files', 'in/*.txt', '--out', 'out', '--quiet', ...extra, ...what], {
    cwd: dir,
    stdio: 'ignore',
    env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON, PARALLEL_RUN_CGROUP: cgroup, ...(mode === 'direct' ? { PARALLEL_RUN_SPAWN_VIA: 'node' } : {}), ...env },
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const pids = () =>
    fs.existsSync(pidFile)
      ? fs
          .readFileSync(pidFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split(' '))
          .map(([k, p]) => [k, Number(p)] as [string, number])
      : [];
  return { dir, child, exited, pids };
}

function session(dir: string): string {
  const def = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'run.json'), 'utf8'));
  return def.sessions[def.sessions.length - 1].session;
}

/** Every cgroup directory named for this run's session, anywhere under /sys/fs/cgroup. */
function runCgroups(s: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = path.join(d, e.name);
      if (e.name === `parallel-run-${s}`) out.push(p);
      else if (depth < 6) walk(p, depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return out;
}

function killAll(pids: number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

const CGROUPS_HERE = process.platform === 'linux' && createRunCgroup('probe-' + process.pid) !== undefined;
// (the probe made a cgroup: remove it)
for (const d of CGROUPS_HERE ? runCgroups('probe-' + process.pid) : []) fs.rmdirSync(d);

describe('processes that escape their task are ended with it', function () {
  this.timeout(120_000);

  const cases: Array<[Stop, Mode, 'on' | 'off']> = [];
  for (const stop of ['timeout', 'cancel', 'crash'] as const) {
    for (const mode of ['cold', 'warm', 'direct'] as const) {
      cases.push([stop, mode, 'on']);
      // spawned from Node without a cgroup nothing can find a daemon that cleared its environment:
      // Node cannot be a child subreaper
      if (mode !== 'direct') cases.push([stop, mode, 'off']);
    }
  }
  for (const [stop, mode, cg] of cases) {
    it(`${stop}, ${mode}, cgroups ${cg}: the setsid child, the forked child and the env -i daemon all end`, async function () {
      if (cg === 'on' && !CGROUPS_HERE) this.skip();
      const files = stop === 'crash' ? 2 : 1; // two hosts, which must not spare each other's tasks' children
      // (the timeout leaves a slow machine time to start the three escapees: a task killed half-way
      // through would never record them all)
      const r = start(mode, cg === 'on' ? '' : 'off', files, stop === 'timeout' ? ['--timeout', '8'] : []);
      let all: number[] = [];
      try {
        assert.ok(await waitFor(() => r.pids().length >= 3 * files, 30_000), `every task started its escapees: ${JSON.stringify(r.pids())}`);
        all = r.pids().map(([, p]) => p);
        assert.deepStrictEqual(all.filter((p) => !alive(p)), [], 'all running before the stop');
        const s = session(r.dir);
        if (stop === 'cancel') r.child.kill('SIGINT');
        if (stop === 'crash') r.child.kill('SIGKILL');
        const code = await r.exited;
        if (stop === 'cancel') assert.strictEqual(code, 130);
        if (stop === 'timeout') assert.strictEqual(code, 1);
        // a killed runner's hosts (or watchdog) clean up after it: give them a moment
        const gone = await waitFor(() => all.every((p) => !alive(p)), stop === 'crash' ? 10_000 : 3_000);
        assert.ok(gone, `left running: ${r
          .pids()
          .filter(([, p]) => alive(p))
          .map(([k, p]) => `${k} ${p}`)
          .join(', ')}`);
        if (stop === 'timeout') {
          const report = JSON.parse(fs.readFileSync(path.join(r.dir, 'out', 'report.json'), 'utf8'));
          assert.strictEqual(report.counts.timedOut, 1);
        }
        assert.ok(await waitFor(() => runCgroups(s).length === 0, 5_000), `the run's cgroups were removed: ${runCgroups(s)}`);
      } finally {
        killAll(all);
        r.child.kill('SIGKILL');
      }
    });
  }

  it('each task runs in a cgroup of its own below the runner\'s; what a task that succeeded left running keeps running, back in the runner\'s cgroup; the run\'s cgroups are removed (v2 and v1)', async function () {
    if (!CGROUPS_HERE) this.skip();
    const own = fs.readFileSync('/proc/self/cgroup', 'utf8');
    for (const version of ['v2', 'v1']) {
      const r = start('warm', version, 2, [], { ESCAPE_THEN_EXIT: '1' });
      let all: number[] = [];
      try {
        assert.strictEqual(await r.exited, 0);
        all = r.pids().map(([, p]) => p);
        assert.strictEqual(all.length, 6);
        const s = session(r.dir);
        for (const i of [1, 2]) {
          const cg = fs.readFileSync(path.join(r.dir, 'in', `${i}.txt.cgroup`), 'utf8');
          // warm tasks are numbered from 0 (PARALLEL_SEQ): the file's cgroup is named by its number
          const line = cg.split('\n').find((l) => l.includes(`/parallel-run-${s}/`));
          assert.ok(line, `${version}: task ${i} ran in the run's cgroup: ${cg}`);
          assert.match(line!, new RegExp(`/parallel-run-${s}/\\d+$`));
          assert.strictEqual(version === 'v2', line!.startsWith('0::'), `${version}: ${line}`);
        }
        assert.deepStrictEqual(all.filter((p) => !alive(p)), [], `${version}: what the tasks left is still running`);
        for (const p of all) {
          const theirs = fs.readFileSync(`/proc/${p}/cgroup`, 'utf8');
          assert.ok(!theirs.includes('parallel-run-'), `${version}: back in the runner's cgroup: ${theirs}`);
        }
        assert.deepStrictEqual(runCgroups(s), [], `${version}: the run's cgroups were removed`);
        assert.strictEqual(fs.readFileSync('/proc/self/cgroup', 'utf8'), own, 'our own cgroup never changed');
      } finally {
        killAll(all);
      }
    }
  });

  it('PARALLEL_RUN_CGROUP=off: no cgroup is made', () => {
    assert.strictEqual(createRunCgroup('never', { PARALLEL_RUN_CGROUP: 'off' }), undefined);
    assert.deepStrictEqual(runCgroups('never'), []);
  });
});
