/**
 * One AbortSignal given to many runs (the sweep does this: every grid point and repeat is a run) must
 * not pile up listeners: each run removes its own when it ends. Node says "MaxListenersExceededWarning:
 * Possible EventTarget memory leak detected" at the 11th listener, in the extension host's log.
 */
import * as assert from 'assert';
import * as path from 'path';
import { startRun } from '../../extension/core/run/engine';
import { tmpDir, WORKERS_DIR, writeFiles } from './engineHelpers';

describe('engine: one abort signal over many runs', function () {
  this.timeout(120_000);

  it('twelve runs sharing a signal leave no listener behind and print no MaxListenersExceededWarning', async () => {
    const dir = tmpDir('pr-abort-');
    const files = writeFiles(dir, { 'a.txt': 'a' });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const ac = new AbortController();
      for (let i = 0; i < 12; i++) {
        const h = await startRun({ command: { kind: 'template', argv: ['true', '{}'] }, files: { kind: 'list', files }, cwd: dir, workers: 1, outDir: path.join(dir, `run${i}`), workersDir: WORKERS_DIR, signal: ac.signal });
        const report = await h.done;
        assert.strictEqual(report.status, 'succeeded');
      }
      await new Promise((r) => setImmediate(r));
      assert.deepStrictEqual(warnings.filter((w) => /MaxListeners/.test(w)), []);
      // and the signal still works for a run that is going on
      const h = await startRun({ command: { kind: 'template', argv: ['sleep', '30'] }, files: { kind: 'list', files }, cwd: dir, workers: 1, outDir: path.join(dir, 'cancelled'), workersDir: WORKERS_DIR, signal: ac.signal });
      h.onEvent((e) => { if (e.type === 'taskStarted') ac.abort(); });
      assert.strictEqual((await h.done).status, 'cancelled');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
