/**
 * Cancel, resume and re-run failed, in the real extension host with real process trees: a cancelled run
 * must leave no process of its process groups behind (grandchildren included) and a journal that
 * `Resume Last Run` continues from; `Re-run Failed Files` runs exactly the failed files again.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunEvent, RunHandle, RunReport } from '../../extension/core/run/types';
import { Commands } from '../../extension/shared/ids';
import { processes, readJournal, runDirOf, services, sleep, waitFor, ws } from './runHelpers';

const NO_REPORT = { openReport: false };

describe('run cancel, resume and re-run failed', function () {
  this.timeout(120_000);

  before(async () => {
    await services();
  });

  it('cancelRun kills every task process group (grandchildren too) and leaves a resumable journal', async () => {
    const api = await services();
    const slow = ws('slow.py');
    const handle = (await vscode.commands.executeCommand(Commands.runScript, {
      script: 'slow.py', files: 'data/*.txt', args: ['60', '--fork'], workers: 2, ...NO_REPORT,
    })) as RunHandle;
    // both workers busy, each task with a forked grandchild
    const seen = await waitFor('2 tasks with their grandchildren', () => {
      const ps = processes().filter((p) => p.cmdline.includes(slow));
      return ps.length >= 4 ? ps : undefined;
    });
    const groups = new Set(seen.map((p) => p.pgid));
    assert.ok(groups.size >= 2, `tasks run in their own process groups: ${[...groups]}`);
    assert.ok(!groups.has(process.pid), 'no task shares the extension host group');

    // Cancel Run naming ANOTHER run's directory (not a local run: it goes to the Slurm side, which
    // does not know it) must leave this run alone
    const other = ws('.parallel-run', 'runs', 'not-this-run');
    await Promise.resolve(vscode.commands.executeCommand(Commands.cancelRun, { runDir: other })).catch(() => undefined);
    assert.ok(api.runs.active(), 'a Cancel Run naming another run directory cancelled this run');
    // named by its own directory (as the Runs view does): this run is cancelled
    const report = (await vscode.commands.executeCommand(Commands.cancelRun, { runDir: handle.outDir })) as RunReport;
    assert.strictEqual(report.status, 'cancelled');
    assert.ok(report.counts.succeeded < 12);
    assert.strictEqual(api.runs.active(), undefined, 'no active run after cancel');
    await sleep(2000);
    const left = processes().filter((p) => groups.has(p.pgid) || p.cmdline.includes(slow));
    assert.deepStrictEqual(left, [], `processes left after cancel: ${JSON.stringify(left)}`);
    assert.ok(fs.existsSync(path.join(handle.outDir, 'journal.ndjson')), 'journal kept');
    assert.ok(fs.existsSync(path.join(handle.outDir, 'run.json')), 'definition kept');
  });

  it('resumeLastRun continues a cancelled run, skipping the files already done', async () => {
    const handle = (await vscode.commands.executeCommand(Commands.runScript, {
      script: 'slow.py', files: 'data/*.txt', args: ['0.3'], workers: 2, ...NO_REPORT,
    })) as RunHandle;
    let finished = 0;
    await new Promise<void>((resolve) => {
      const off = handle.onEvent((e: RunEvent) => {
        if (e.type === 'taskFinished' && e.record.status === 'succeeded' && ++finished === 4) {
          off();
          resolve();
        }
      });
    });
    const cancelled = (await vscode.commands.executeCommand(Commands.cancelRun, { runId: handle.runId })) as RunReport;
    assert.strictEqual(cancelled.status, 'cancelled');
    const doneBefore = cancelled.counts.succeeded;
    assert.ok(doneBefore >= 4 && doneBefore < 12, `succeeded before cancel: ${doneBefore}`);

    // no runDir: "the last run" that is resumable is this one
    const resumed = (await vscode.commands.executeCommand(Commands.resumeLastRun, { wait: true, ...NO_REPORT })) as RunReport;
    assert.strictEqual(resumed.runId, cancelled.runId, 'same run, same directory');
    assert.strictEqual(resumed.status, 'succeeded');
    assert.strictEqual(resumed.counts.skipped, doneBefore, 'files that succeeded are skipped');
    assert.strictEqual(resumed.counts.succeeded + resumed.counts.skipped, 12);
    const ok = readJournal(handle.outDir).filter((j) => j.status === 'succeeded').map((j) => path.basename(j.file));
    assert.strictEqual(new Set(ok).size, 12, 'every file succeeded once across both sessions');
    assert.strictEqual(ok.length, 12, 'no file ran twice');
  });

  it('rerunFailed (the palette\'s "Re-run Failed Files") runs exactly the failed files again, merged into the same run', async () => {
    fs.rmSync(ws('fixed.flag'), { force: true });
    const first = (await vscode.commands.executeCommand(Commands.runScript, {
      script: 'fail_some.py', files: 'data/*.txt', workers: 2, wait: true, ...NO_REPORT,
    })) as RunReport;
    assert.strictEqual(first.status, 'failed');
    assert.strictEqual(first.counts.failed, 2);
    assert.deepStrictEqual(first.failures.map((f) => path.basename(f.file)).sort(), ['a03.txt', 'a07.txt']);
    assert.ok(first.failures.every((f) => f.exitCode === 3));
    assert.match(first.failures[0].stderrTail, /refusing this file/);

    fs.writeFileSync(ws('fixed.flag'), 'fixed\n'); // the user fixes the cause
    try {
      const runsDir = ws('.parallel-run', 'runs');
      const before = fs.readdirSync(runsDir).length;
      const again = (await vscode.commands.executeCommand(Commands.rerunFailed, { wait: true, ...NO_REPORT })) as RunReport;
      assert.strictEqual(again.runId, first.runId, 'the same run, not a new one');
      assert.strictEqual(runDirOf(again), runDirOf(first));
      assert.strictEqual(fs.readdirSync(runsDir).length, before, 'no new run directory');
      // the report is the whole run's: the two files ran again, the ten others count as done before
      assert.deepStrictEqual([again.status, again.counts.total, again.counts.succeeded, again.counts.skipped], ['succeeded', 12, 2, 10]);
      assert.deepStrictEqual(again.tasks.map((t) => path.basename(t.file)).sort(), ['a03.txt', 'a07.txt']);
      // the journal: each file succeeded exactly once, a03 and a07 failed once before
      const journal = readJournal(runDirOf(first));
      const ok = journal.filter((j) => j.status === 'succeeded').map((j) => path.basename(j.file));
      assert.strictEqual(ok.length, 12);
      assert.strictEqual(new Set(ok).size, 12);
      assert.deepStrictEqual(journal.filter((j) => j.status === 'failed').map((j) => path.basename(j.file)).sort(), ['a03.txt', 'a07.txt']);
    } finally {
      fs.rmSync(ws('fixed.flag'), { force: true });
    }
  });

  it('the shutdown hook cancels active runs and awaits their teardown', async () => {
    const api = await services();
    const slow = ws('slow.py');
    const handle = (await vscode.commands.executeCommand(Commands.runScript, {
      script: 'slow.py', files: 'data/a0*.txt', args: ['60', '--fork'], workers: 2, ...NO_REPORT,
    })) as RunHandle;
    await waitFor('tasks started', () => processes().filter((p) => p.cmdline.includes(slow)).length >= 2);
    // run our hook as deactivate() would (not the other features' hooks: later suites need them)
    const hook = (api.shutdownHooks as Array<() => Promise<void>>).find((h) => h.name === 'cancelActiveRuns');
    assert.ok(hook, 'the run feature registered its shutdown hook');
    await hook();
    const report = await handle.done;
    assert.strictEqual(report.status, 'cancelled');
    await sleep(2000);
    assert.deepStrictEqual(processes().filter((p) => p.cmdline.includes(slow)), []);
  });
});
