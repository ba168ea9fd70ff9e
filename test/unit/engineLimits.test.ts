/**
 * Limits on what a user can ask of the engine: timer lengths beyond what Node's timers take, and
 * -j far above the machine (slots start lazily, a warning names the cost, a stated maximum).
 */
import * as assert from 'assert';
import * as path from 'path';
import { startRun } from '../../extension/core/run/engine';
import { RunOptions, UsageError } from '../../extension/core/run/types';
import { validateSettings } from '../../extension/core/settings';
import { MAX_TIMEOUT_SEC, MAX_TIMER_MS, setLongTimeout } from '../../extension/core/timers';
import { baseOptions, collect, PYTHON, tmpDir, writeFiles } from './engineHelpers';

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
