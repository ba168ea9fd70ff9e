/**
 * Limits on what a user can ask of the engine: timer lengths beyond what Node's timers take, and
 * -j far above the machine (slots start lazily, a warning names the cost, a stated maximum).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { startRun } from '../../extension/core/run/engine';
import { RunOptions, UsageError } from '../../extension/core/run/types';
import { validateSettings } from '../../extension/core/settings';
import { MAX_TIMEOUT_SEC, MAX_TIMER_MS, setLongTimeout } from '../../extension/core/timers';
import { MAX_WORKERS } from '../../extension/core/run/workerLimits';
import { logicalCores } from '../../extension/core/threads';
import { baseOptions, collect, processesWithEnv, PYTHON, tmpDir, writeFiles } from './engineHelpers';

const base = baseOptions;

describe('engine limits: long timers', function () {
  this.timeout(60_000);

  it('setLongTimeout re-arms in chunks until the whole delay has passed, and clear() stops it', async () => {
    const t0 = Date.now();
    const at = await new Promise<number>((r) => setLongTimeout(() => r(Date.now()), 120, { chunkMs: 25 }));
    assert.ok(at - t0 >= 115, `fired after ${at - t0} ms, not before the delay`);
    let fired = false;
    const t = setLongTimeout(() => (fired = true), 60, { chunkMs: 20 });
    await new Promise((r) => setTimeout(r, 30));
    t.clear();
    await new Promise((r) => setTimeout(r, 80));
    assert.strictEqual(fired, false);
  });

  // Node turns a delay above 2^31-1 ms into 1 ms: such a timeout killed every task at once (and in
  // warm mode marked tasks that exited 0 as timed out)
  const long = Math.ceil(MAX_TIMER_MS / 1000) + 1000;
  for (const [name, extra] of [
    ['cold, spawned from Node', { spawnVia: 'node' }],
    ['cold, through the Python host', {}],
    ['warm', { command: { kind: 'python', python: PYTHON, script: '', args: [], warm: true } }],
  ] as Array<[string, Partial<RunOptions>]>) {
    it(`a --timeout above Node's timer limit (${long} s) does not kill a task: ${name}`, async () => {
      const dir = tmpDir();
      writeFiles(dir, { 'in/a.txt': '', 'in/b.txt': '', 'task.py': 'import time, sys\ntime.sleep(0.3)\nprint("ok", sys.argv[1])\n' });
      const command: RunOptions['command'] = extra.command
        ? { kind: 'python', python: PYTHON, script: path.join(dir, 'task.py'), args: [], warm: true }
        : { kind: 'template', argv: [PYTHON, path.join(dir, 'task.py'), '{}'] };
      const { report } = await collect(await startRun(base(dir, { ...extra, command, timeoutSec: long })));
      assert.deepStrictEqual(report.tasks.map((t) => [t.status, t.exitCode]), [['succeeded', 0], ['succeeded', 0]]);
      assert.strictEqual(report.status, 'succeeded');
    });
  }

  it(`a timeout above the stated maximum (${MAX_TIMEOUT_SEC} s) is refused before anything starts; the setting too`, async () => {
    await assert.rejects(startRun(base(tmpDir(), { timeoutSec: MAX_TIMEOUT_SEC + 1, files: { kind: 'list', files: ['x'] } })), (e: Error) => e instanceof UsageError && /from 0 to 10000000/.test(e.message));
    assert.strictEqual(validateSettings({ timeoutSeconds: MAX_TIMEOUT_SEC }).timeoutSeconds, MAX_TIMEOUT_SEC);
    assert.throws(() => validateSettings({ timeoutSeconds: MAX_TIMEOUT_SEC + 1 }), /timeoutSeconds is 10000001, not a number between 0 and 10000000/);
  });
});

/** This run's processes that the runner started itself (its Python hosts; tasks are their children). */
function hostsOf(session: string): number[] {
  return processesWithEnv('PARALLEL_RUN_SESSION', session).filter((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
    } catch {
      return false;
    }
  });
}

describe('engine limits: -j', function () {
  this.timeout(60_000);

  it('-j far above the inputs starts a worker (and its Python host) per file in flight, not per slot, and warns with the cost', async () => {
    const dir = tmpDir();
    writeFiles(dir, { 'in/a.txt': '', 'in/b.txt': '', 'in/c.txt': '', 'task.py': 'import time\ntime.sleep(1.5)\n' });
    const workers = Math.max(64, 2 * logicalCores() + 1);
    const h = await startRun(base(dir, { workers, command: { kind: 'python', python: PYTHON, script: path.join(dir, 'task.py'), args: [], warm: true } }));
    const session = JSON.parse(fs.readFileSync(path.join(h.outDir, 'run.json'), 'utf8')).sessions[0].session;
    // watched for the whole run (a loaded machine may start the hosts late)
    let most = 0;
    let done = false;
    const watching = (async () => {
      while (!done) {
        most = Math.max(most, hostsOf(session).length);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const { report } = await collect(h);
    done = true;
    await watching;
    assert.strictEqual(report.counts.succeeded, 3);
    assert.ok(most >= 1 && most <= 3, `${most} Python hosts for 3 files on -j ${workers}`);
    assert.ok(report.notes.some((n) => n.includes(`-j ${workers} is more than twice this machine's`) && n.includes('Each worker costs')), report.notes.join('\n'));
  });

  it(`-j above ${MAX_WORKERS} is refused before anything starts, saying what a worker costs`, async () => {
    const dir = tmpDir();
    await assert.rejects(startRun(base(dir, { workers: MAX_WORKERS + 1, files: { kind: 'list', files: ['x'] } })), (e: Error) => e instanceof UsageError && e.message.includes(`from 1 to ${MAX_WORKERS}`) && e.message.includes('each worker costs'));
    assert.ok(!fs.existsSync(path.join(dir, 'run')), 'no run directory made');
    assert.throws(() => validateSettings({ workers: MAX_WORKERS + 1 }), /workers is 1025, not a whole number between 0 and 1024/);
  });
});
