/**
 * The run commands in the real extension host, driven through vscode.commands.executeCommand with an
 * argument object (no questions asked), over the fixture workspace's real Python scripts.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunHandle, RunReport } from '../../extension/core/run/types';
import { Commands, ContextKeys } from '../../extension/shared/ids';
import { folder, readJournal, readReportJson, rejection, runDirOf, services, setSetting, waitFor, ws } from './runHelpers';

/** The machine's memory in GB, rounded down to 1/1000: more than is ever available, not more than there is. */
const ALL_MEMORY_GB = Math.floor((os.totalmem() / 2 ** 30) * 1000) / 1000;

const NO_REPORT = { openReport: false };

describe('run commands', function () {
  this.timeout(120_000);
  let okReport: RunReport;

  before(async () => {
    await services();
  });

  it('runScript runs a script over a glob and writes journal, logs and report', async () => {
    const report = (await vscode.commands.executeCommand(Commands.runScript, {
      script: 'ok.py', files: 'data/*.txt', workers: 2, wait: true, ...NO_REPORT,
    })) as RunReport;
    okReport = report;
    assert.strictEqual(report.status, 'succeeded');
    assert.strictEqual(report.counts.total, 12);
    assert.strictEqual(report.counts.succeeded, 12);
    assert.strictEqual(report.workers, 2);
    assert.strictEqual(report.threads, 1, 'default threads = floor(2 cores / 2 workers) on this machine, at least 1');
    const runDir = runDirOf(report);
    assert.ok(runDir.startsWith(ws('.parallel-run', 'runs')), `run directory ${runDir} is under the runs directory`);
    const journal = readJournal(runDir);
    assert.strictEqual(journal.length, 12, 'one journal line per file');
    assert.deepStrictEqual(new Set(journal.map((j) => path.basename(j.file))).size, 12);
    assert.ok(journal.every((j) => j.status === 'succeeded'));
    const onDisk = readReportJson(runDir);
    assert.strictEqual(onDisk.runId, report.runId);
    assert.strictEqual(onDisk.counts.succeeded, 12);
    // the script really ran: its outputs and its stdout log
    assert.ok(fs.existsSync(ws('out', 'a01.out')), 'ok.py wrote out/a01.out');
    const t = report.tasks.find((x) => path.basename(x.file) === 'a05.txt')!;
    assert.match(fs.readFileSync(path.join(runDir, t.stdoutLog), 'utf8'), /a05\.txt: 3 lines, 7 words/);
    // every child got the thread env
    assert.strictEqual(t.threadEnv.OMP_NUM_THREADS, '1');
    assert.strictEqual(t.threadEnv.OPENBLAS_NUM_THREADS, '1');
  });

  it('logs one line per finished file and a summary to the "Parallel Run" log channel', async () => {
    const api = await services();
    const ctx = api.context as vscode.ExtensionContext;
    const logFile = path.join(ctx.logUri.fsPath, 'Parallel Run.log');
    const lines = await waitFor('the run in the log', () => {
      if (!fs.existsSync(logFile)) return undefined;
      const mine = fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes(`[${okReport.runId}]`));
      return mine.some((l) => /succeeded: 12 succeeded, 0 failed/.test(l)) ? mine : undefined;
    });
    const perFile = lines.filter((l) => /\[info\] \[[^\]]+\] ✓ data\/a\d\d\.txt \d/.test(l));
    assert.strictEqual(perFile.length, 12, lines.join('\n'));
    assert.ok(lines.some((l) => /speedup [\d.]+× \(estimate\) on 2 workers × \d+ threads?/.test(l)));
  });

  it('uses the real interpreter, resolved once (not the pyenv shim)', async () => {
    const api = await services();
    const py = await api.python.resolve(folder());
    assert.ok(path.isAbsolute(py.executable));
    assert.ok(!py.executable.includes('/shims/'), `resolved ${py.executable} is not a shim`);
    assert.strictEqual(py.source, 'default', 'the Python extension is not installed here, parallelRun.python.path is empty');
    const cmd = okReport.command;
    assert.strictEqual(cmd.kind, 'python');
    if (cmd.kind === 'python') assert.strictEqual(cmd.python, py.executable);
  });

  it('parallelRun.python.path is used (resolved to the real executable) and re-read when it changes', async () => {
    const api = await services();
    const real = (await api.python.resolve(folder())).executable;
    await setSetting('python.path', real);
    try {
      const py = await api.python.resolve(folder());
      assert.strictEqual(py.source, 'setting');
      assert.strictEqual(py.executable, real);
    } finally {
      await setSetting('python.path', undefined);
    }
    assert.strictEqual((await api.python.resolve(folder())).source, 'default', 'the cache follows the setting');
  });

  it('runAgain repeats the last run without questions, in a new run directory', async () => {
    const report = (await vscode.commands.executeCommand(Commands.runAgain, { wait: true, ...NO_REPORT })) as RunReport;
    assert.strictEqual(report.status, 'succeeded');
    assert.strictEqual(report.counts.succeeded, 12);
    assert.notStrictEqual(report.runId, okReport.runId);
  });

  it('runOverSelection runs over an explicit list of files and over a folder', async () => {
    const list = (await vscode.commands.executeCommand(Commands.runOverSelection, {
      script: 'ok.py', files: ['data/a01.txt', 'data/a02.txt', 'data/a03.txt'], workers: 2, wait: true, ...NO_REPORT,
    })) as RunReport;
    assert.strictEqual(list.counts.total, 3);
    assert.strictEqual(list.counts.succeeded, 3);
    const dir = (await vscode.commands.executeCommand(Commands.runOverSelection, {
      script: 'ok.py', inputFolder: 'data', workers: 2, wait: true, ...NO_REPORT,
    })) as RunReport;
    assert.strictEqual(dir.counts.succeeded, 12);
  });

  it('warm workers run the same files through forked Python workers', async () => {
    const report = (await vscode.commands.executeCommand(Commands.runScript, {
      script: 'ok.py', files: 'data/*.txt', workers: 2, warm: true, wait: true, ...NO_REPORT,
    })) as RunReport;
    assert.strictEqual(report.counts.succeeded, 12, JSON.stringify(report.failures.slice(0, 2)));
    const modes = new Set(report.tasks.map((t) => t.mode));
    // warm may fall back to cold, and then says why in notes
    assert.ok(modes.has('warm') || report.notes.length > 0, `warm run: modes ${[...modes]} notes ${report.notes}`);
  });

  it('parallelRun.memoryFreeGB and parallelRun.timeoutPercentOfMedian reach the run', async () => {
    await setSetting('memoryFreeGB', ALL_MEMORY_GB); // all of the machine's memory: never available, so one file at a time
    await setSetting('timeoutPercentOfMedian', 300);
    try {
      const report = (await vscode.commands.executeCommand(Commands.runScript, {
        script: 'ok.py', files: 'data/a0[1-4].txt', workers: 2, wait: true, ...NO_REPORT,
      })) as RunReport;
      assert.strictEqual(report.counts.succeeded, 4, JSON.stringify(report.failures.slice(0, 2)));
      assert.match(report.notes.join(' '), /Memory: 4 files found less than .* available/);
      const spans = report.tasks.map((t) => [t.start, t.end]).sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], 'one file at a time');
      const def = JSON.parse(fs.readFileSync(path.join(runDirOf(report), 'run.json'), 'utf8'));
      assert.deepStrictEqual([def.memFreeBytes, def.timeoutPercent, def.timeoutSec], [Math.round(ALL_MEMORY_GB * 2 ** 30), 300, 0]);
    } finally {
      await setSetting('memoryFreeGB', undefined);
      await setSetting('timeoutPercentOfMedian', undefined);
    }
  });

  it('sets parallelRun.runActive while a run is going and returns a handle without wait', async () => {
    const api = await services();
    const handle = (await vscode.commands.executeCommand(Commands.runScript, {
      script: 'slow.py', files: 'data/a0[12].txt', args: ['0.5'], workers: 2, ...NO_REPORT,
    })) as RunHandle;
    assert.strictEqual(typeof handle.cancel, 'function');
    assert.strictEqual(api.runs.active()?.runId, handle.runId);
    // the resource monitor is told about the run (busy tasks / workers) while it goes
    const monitor = api.monitor as { service?: { activity(): { busy: number; workers: number } | undefined } } | undefined;
    if (monitor?.service) {
      const act = await waitFor('the monitor to see the run', () => monitor.service!.activity());
      assert.strictEqual(act.workers, 2);
    }
    const report = await handle.done;
    assert.strictEqual(report.status, 'succeeded');
    await waitFor('no active run', () => api.runs.active() === undefined);
    if (monitor?.service) assert.strictEqual(monitor.service.activity(), undefined, 'the monitor is told the run ended');
    // the context key is set through setContext; reading it back is not API — the menus use it
    assert.ok(ContextKeys.runActive);
  });

  it('showReport never dead-ends: it opens the report panel or a summary', async () => {
    const res = (await vscode.commands.executeCommand(Commands.showReport, { runDir: runDirOf(okReport) })) as { via: string; runDir: string };
    assert.ok(res && (res.via === 'panel' || res.via === 'markdown'), JSON.stringify(res));
    if (res.via === 'markdown') {
      const text = vscode.window.activeTextEditor?.document.getText() ?? '';
      assert.match(text, /12 succeeded/);
      assert.match(text, /Speedup \(estimate/);
    }
  });

  it('openRunLogs and openTaskLog open the log of one file', async () => {
    const runDir = runDirOf(okReport);
    const opened = (await vscode.commands.executeCommand(Commands.openRunLogs, { runDir, file: 'data/a07.txt' })) as string;
    assert.ok(opened.startsWith(runDir), opened);
    assert.strictEqual(vscode.window.activeTextEditor?.document.uri.fsPath, opened);
    assert.match(vscode.window.activeTextEditor!.document.getText(), /a07\.txt: 3 lines/);
    const viaTask = (await vscode.commands.executeCommand(Commands.openTaskLog, { runDir, file: 'data/a08.txt' })) as string;
    assert.match(fs.readFileSync(viaTask, 'utf8'), /a08\.txt/);
  });

  it('deleteRun removes a run directory, refuses anything else', async () => {
    const r = (await vscode.commands.executeCommand(Commands.runScript, {
      script: 'ok.py', files: 'data/a1*.txt', wait: true, ...NO_REPORT,
    })) as RunReport;
    const runDir = runDirOf(r);
    assert.ok(fs.existsSync(runDir));
    assert.strictEqual(await vscode.commands.executeCommand(Commands.deleteRun, { runDir, confirm: false }), true);
    assert.ok(!fs.existsSync(runDir));
    const msg = await rejection(vscode.commands.executeCommand(Commands.deleteRun, { runDir: ws('data'), confirm: false }));
    assert.match(msg, /not a Parallel Run run directory/);
    assert.ok(fs.existsSync(ws('data', 'a01.txt')), 'data untouched');
  });

  it('refreshRuns succeeds', async () => {
    assert.strictEqual(await vscode.commands.executeCommand(Commands.refreshRuns), true);
  });

  describe('bad input gets one clear message', () => {
    afterEach(async () => {
      await setSetting('python.path', undefined);
      await setSetting('workers', undefined);
    });

    it('a glob that matches nothing', async () => {
      const msg = await rejection(vscode.commands.executeCommand(Commands.runScript, { script: 'ok.py', files: 'data/*.nope', wait: true }));
      assert.match(msg, /no files match "data\/\*\.nope"/);
      assert.match(msg, /Check the pattern/);
    });

    it('a script that does not exist', async () => {
      const msg = await rejection(vscode.commands.executeCommand(Commands.runScript, { script: 'missing.py', files: 'data/*.txt', wait: true }));
      assert.match(msg, /script ".*missing\.py" does not exist/);
    });

    it('a missing interpreter names parallelRun.python.path and the fix', async () => {
      await setSetting('python.path', '/nonexistent/python9');
      const msg = await rejection(vscode.commands.executeCommand(Commands.runScript, { script: 'ok.py', files: 'data/*.txt', wait: true }));
      assert.match(msg, /python9/);
      assert.match(msg, /parallelRun\.python\.path/);
      assert.match(msg, /Select Interpreter|Set parallelRun\.python\.path/);
    });

    it('an invalid setting names its key', async () => {
      await setSetting('workers', -3);
      const msg = await rejection(vscode.commands.executeCommand(Commands.runScript, { script: 'ok.py', files: 'data/*.txt', wait: true }));
      assert.match(msg, /parallelRun\.workers/);
    });

    it('an invalid argument names it', async () => {
      const msg = await rejection(vscode.commands.executeCommand(Commands.runScript, { script: 'ok.py', files: 'data/*.txt', workers: 2.5, wait: true }));
      assert.match(msg, /workers is 2\.5/);
    });

    it('no files at all', async () => {
      const msg = await rejection(vscode.commands.executeCommand(Commands.runScript, { script: 'ok.py', wait: true }));
      assert.match(msg, /no input files given/);
    });

    it('nothing to re-run or resume in a run that succeeded', async () => {
      const res = await vscode.commands.executeCommand(Commands.rerunFailed, { runDir: runDirOf(okReport) });
      assert.strictEqual(res, undefined);
    });
  });
});
