/**
 * Re-running failed tasks of a run over tuples, with real Python: the failed tuples come from the
 * journal (their values, not their labels), and a re-run of some of them ("only" these tuples, a subset
 * of the run) runs exactly those, merged into the same run directory; the journal ends with each tuple
 * succeeded exactly once and results.csv with one row per tuple.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { startRun } from '../../extension/core/run/engine';
import { failedFiles, failedInputs } from '../../extension/core/run/history';
import type { InputsSpec, RunOptions } from '../../extension/core/run/types';
import { journalLines, PYTHON, ROOT, tmpDir, WORKERS_DIR } from './engineHelpers';

/** Fails the first time for mu=0.5 (ValueError) and mu=1 (KeyError): a marker file per tuple says it tried. */
const FLAKY = path.join(ROOT, 'test', 'fixtures', 'workspace', 'flaky_grid.py');

const GRID: InputsSpec = { sources: [{ kind: 'grid', name: 'mu', values: ['0', '0.5', '1'] }, { kind: 'grid', name: 'sigma', values: ['1', '2'] }] };

function options(dir: string, extra: Partial<RunOptions> = {}): RunOptions {
  return {
    command: { kind: 'python', python: PYTHON, script: path.join(dir, 'flaky.py'), args: ['--mu', '{mu}', '--sigma', '{sigma}'], warm: false },
    files: { kind: 'list', files: [] },
    inputs: GRID,
    cwd: dir,
    workers: 2,
    stopEarly: 0,
    outDir: path.join(dir, 'run'),
    workersDir: WORKERS_DIR,
    ...extra,
  };
}

describe('re-running failed tasks of a run over tuples', function () {
  this.timeout(120_000);

  it('runs exactly the failed tuples again, merged into the same run; each tuple succeeds once', async () => {
    const dir = tmpDir('pr-rerun-tuples-');
    fs.copyFileSync(FLAKY, path.join(dir, 'flaky.py'));
    const first = await (await startRun(options(dir))).done;
    assert.deepStrictEqual([first.status, first.counts.succeeded, first.counts.failed], ['failed', 2, 4]);
    const runDir = path.join(dir, 'run');
    const failed = await failedInputs(runDir);
    assert.deepStrictEqual(failed.map((f) => f.inputs), [['0.5', '1'], ['0.5', '2'], ['1', '1'], ['1', '2']]);
    assert.deepStrictEqual(failed.map((f) => f.file), ['mu=0.5 sigma=1', 'mu=0.5 sigma=2', 'mu=1 sigma=1', 'mu=1 sigma=2']);
    assert.deepStrictEqual(await failedFiles(runDir), failed.map((f) => f.file), 'failedFiles: the same tasks, by label');

    // one failure group (the ValueError tuples) run again: only those two, the rest carried as they ended
    const group = first.failureGroups!.find((g) => g.title.startsWith('ValueError'))!;
    const chosen = failed.filter((f) => group.files.includes(f.file));
    const again = await (
      await startRun(options(dir, { inputs: { ...GRID, only: chosen.map((f) => f.inputs!) }, files: { kind: 'list', files: chosen.map((f) => f.file) }, resume: true, subset: true }))
    ).done;
    assert.strictEqual(again.runId, first.runId);
    assert.deepStrictEqual([again.counts.total, again.counts.succeeded, again.counts.skipped, again.counts.failed], [6, 2, 2, 2]);
    assert.deepStrictEqual(again.failureGroups!.map((g) => [g.count, g.title.split(':')[0]]), [[2, 'KeyError']]);
    const s2 = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')).sessions[1].session;
    const session2 = journalLines(runDir).filter((l) => l.session === s2);
    assert.deepStrictEqual(session2.map((l) => l.inputs).sort(), [['0.5', '1'], ['0.5', '2']], 'the second session ran exactly the group');

    // every remaining failure, as Re-run Failed does
    const rest = await failedInputs(runDir);
    assert.deepStrictEqual(rest.map((f) => f.inputs), [['1', '1'], ['1', '2']]);
    const last = await (
      await startRun(options(dir, { inputs: { ...GRID, only: rest.map((f) => f.inputs!) }, files: { kind: 'list', files: rest.map((f) => f.file) }, resume: true, subset: true }))
    ).done;
    assert.deepStrictEqual([last.status, last.counts.total, last.counts.succeeded, last.counts.skipped], ['succeeded', 6, 2, 4]);
    assert.deepStrictEqual(await failedInputs(runDir), []);

    // the journal: each tuple succeeded exactly once; results.csv: one row per tuple, all succeeded
    const ok = journalLines(runDir).filter((l) => l.status === 'succeeded').map((l) => JSON.stringify(l.inputs));
    assert.strictEqual(ok.length, 6);
    assert.strictEqual(new Set(ok).size, 6);
    const csv = fs.readFileSync(path.join(runDir, 'results.csv'), 'utf8').trim().split('\n');
    assert.strictEqual(csv[0], 'mu,sigma,status,seconds,max_rss_mb,v');
    assert.deepStrictEqual(csv.slice(1).map((l) => l.split(',')).map((c) => `${c[0]} ${c[1]} ${c[2]} ${c[5]}`).sort(), [
      '0 1 succeeded 0', '0 2 succeeded 0', '0.5 1 succeeded 0.5', '0.5 2 succeeded 1', '1 1 succeeded 1', '1 2 succeeded 2',
    ]);
  });
});
