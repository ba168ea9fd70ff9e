/** A task printing 200 MB: it all lands in the log file, the runner's memory stays bounded. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { startRun } from '../../extension/core/run/engine';
import { collect, FIXTURES, PYTHON, tmpDir, WORKERS_DIR, writeFiles } from './engineHelpers';

function peakRssKb(): number {
  const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return Number(m![1]);
}

describe('engine: huge task output', function () {
  this.timeout(60_000);

  it('a 200 MB stdout goes to the log file; the runner grows by less than 64 MB', async () => {
    const dir = tmpDir('pr-bigout-');
    writeFiles(dir, { 'in/a.txt': 'x' });
    const before = peakRssKb();
    const h = await startRun({
      command: { kind: 'python', python: PYTHON, script: path.join(FIXTURES, 'big_stdout.py'), args: ['200'], warm: false },
      files: { kind: 'globs', patterns: ['in/*.txt'], cwd: dir },
      cwd: dir, outDir: path.join(dir, 'run'), workersDir: WORKERS_DIR, workers: 1,
    });
    const { report, events } = await collect(h);
    const after = peakRssKb();
    assert.strictEqual(report.status, 'succeeded', JSON.stringify(report.failures));
    const t = report.tasks[0];
    assert.strictEqual(fs.statSync(path.join(h.outDir, t.stdoutLog)).size, 200 * 1024 * 1024);
    assert.ok(t.stdoutTail.length <= 4096 && t.stdoutTail.endsWith('x\n'));
    const out = events.filter((e) => e.type === 'taskOutput');
    assert.ok(out.every((e) => e.type === 'taskOutput' && e.text.length <= 4096));
    assert.ok(after - before < 64 * 1024, `runner peak RSS grew by ${((after - before) / 1024).toFixed(1)} MB`);
  });
});
