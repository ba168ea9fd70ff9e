/**
 * The numbers of real runs. The thread variables the report shows are the ones the tasks really run
 * with: read from /proc/<pid>/environ of the running children (cold and warm), compared with the
 * report's table (RunReport.threadEnv, live and final) and each task's record; a user's own value
 * must win in both. A run where every file fails reports no speedup, efficiency or throughput, and
 * every run records the load other processes put on the machine.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { startRun } from '../../extension/core/run/engine';
import { THREAD_ENV_VARS } from '../../extension/core/threads';
import { figuresLine, runFigures } from '../../extension/shared/figures';
import { PYTHON, tmpDir, WORKERS_DIR, writeFiles } from './engineHelpers';

const SCRIPT = `import os, sys, time
# written whole, then renamed: the test never reads a half-written file
with open(sys.argv[1] + '.pid.tmp', 'w') as f:
    f.write(str(os.getpid()))
os.rename(sys.argv[1] + '.pid.tmp', sys.argv[1] + '.pid')
# stay alive until the test has read our environment
deadline = time.time() + 20
while not os.path.exists(sys.argv[1] + '.go') and time.time() < deadline:
    time.sleep(0.02)
`;

function threadVarsOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0')) {
    const eq = kv.indexOf('=');
    const k = kv.slice(0, eq);
    if ((THREAD_ENV_VARS as readonly string[]).includes(k)) out[k] = kv.slice(eq + 1);
  }
  return out;
}

async function waitFor(file: string): Promise<void> {
  for (let i = 0; i < 1500 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(fs.existsSync(file), `${file} appeared`);
}

describe('thread variables: the report shows what the children got (/proc/<pid>/environ)', function () {
  this.timeout(120_000);
  if (process.platform !== 'linux') return;

  for (const warm of [false, true]) {
    it(`${warm ? 'warm' : 'cold'} tasks, 2 workers × 1 thread, the user's OMP_NUM_THREADS=3 kept`, async () => {
      const dir = tmpDir('pr-threadenv-');
      try {
        writeFiles(dir, { 'task.py': SCRIPT, 'a.txt': 'a', 'b.txt': 'b' });
        const h = await startRun({
          command: { kind: 'python', python: PYTHON, script: path.join(dir, 'task.py'), args: [], warm },
          files: { kind: 'list', files: [path.join(dir, 'a.txt'), path.join(dir, 'b.txt')] },
          cwd: dir, workers: 2, threads: 1, env: { OMP_NUM_THREADS: '3' }, outDir: path.join(dir, 'run'), workersDir: WORKERS_DIR,
        });
        const seen: Array<Record<string, string>> = [];
        for (const f of ['a.txt', 'b.txt']) {
          await waitFor(path.join(dir, `${f}.pid`));
          const pid = Number(fs.readFileSync(path.join(dir, `${f}.pid`), 'utf8'));
          seen.push(threadVarsOf(pid));
        }
        const live = h.report().threadEnv;
        for (const f of ['a.txt', 'b.txt']) fs.writeFileSync(path.join(dir, `${f}.go`), '');
        const report = await h.done;
        assert.strictEqual(report.counts.succeeded, 2, JSON.stringify(report.failures));
        // what each child really had, what the report's table shows (live and final), what each record says
        for (const env of seen) {
          assert.deepStrictEqual(env, live);
          assert.deepStrictEqual(env, report.threadEnv);
        }
        for (const t of report.tasks) assert.deepStrictEqual(t.threadEnv, report.threadEnv);
        assert.strictEqual(report.threadEnv.OMP_NUM_THREADS, '3', 'the user\'s own value wins, and the report says so');
        assert.strictEqual(report.threadEnv.OPENBLAS_NUM_THREADS, '1');
        assert.deepStrictEqual(Object.keys(report.threadEnv).sort(), [...THREAD_ENV_VARS].sort(), 'every thread variable is set and shown');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('a run where every file fails has no speedup (real run)', function () {
  this.timeout(60_000);

  it('speedup, efficiency and throughput count succeeded files only; the load is recorded', async () => {
    const dir = tmpDir('pr-allfail-');
    try {
      writeFiles(dir, { 'bad.py': 'import sys\nsys.exit("no such column")\n', 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' });
      const h = await startRun({
        command: { kind: 'python', python: PYTHON, script: path.join(dir, 'bad.py'), args: [], warm: false },
        files: { kind: 'list', files: ['a.txt', 'b.txt', 'c.txt'].map((f) => path.join(dir, f)) },
        cwd: dir, workers: 2, threads: 1, outDir: path.join(dir, 'run'), workersDir: WORKERS_DIR,
      });
      const report = await h.done;
      assert.strictEqual(report.counts.failed, 3);
      assert.ok(report.sumTaskMs > 0, 'the failed tasks did take time');
      assert.deepStrictEqual([report.sumSucceededMs, report.speedupEstimate, report.throughput, report.efficiency], [0, 0, 0, 0]);
      const f = runFigures(report);
      assert.deepStrictEqual([f.ok, f.speedup, f.efficiency, f.throughput], [false, null, null, null]);
      assert.match(figuresLine(report), /^No file succeeded, so there is no speedup, efficiency or throughput to report \(2 workers × 1 thread\)/);
      const onDisk = JSON.parse(fs.readFileSync(path.join(dir, 'run', 'report.json'), 'utf8'));
      if (process.platform === 'linux') {
        assert.ok(onDisk.load && onDisk.load.samples >= 1 && onDisk.load.othersCores >= 0, JSON.stringify(onDisk.load));
        assert.ok(onDisk.machine && onDisk.machine.host, 'the machine is recorded for Compare');
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
