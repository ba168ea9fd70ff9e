/**
 * Workspace Trust in a REALLY untrusted window (launch profile "untrusted": trust enabled, the folder
 * in no trusted list, startup prompt off). Every command that starts processes refuses at once —
 * nothing asked, no run directory, no child process, one warning naming trust (also logged) — while
 * run history (Runs view, report) keeps working, the restricted setting parallelRun.python.path from
 * the workspace is ignored, and the parallel-run task does not run.
 */
import * as assert from 'assert';
import { execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import * as vscode from 'vscode';
import { Commands, CONFIG_SECTION, Settings, TASK_TYPE, TRUST_REQUIRED_COMMANDS } from '../../../extension/shared/ids';
import { folder, rejection, services, sleep, waitFor, ws } from '../runHelpers';
import { watchChildren } from './processWatch';

const execFileP = promisify(execFile);
const ROOT = process.env.PR_TEST_ROOT ?? path.resolve(__dirname, '..', '..', '..', '..');
const WORKSPACE_PYTHON = '/untrusted/bin/python-from-workspace'; // runTest.ts writes it to .vscode/settings.json

interface Node {
  kind: string;
  runDir?: string;
  record?: { file: string; status: string };
}

function runDirs(): string[] {
  const root = ws('.parallel-run', 'runs');
  return fs.existsSync(root) ? fs.readdirSync(root).sort() : [];
}

function logFile(ctx: vscode.ExtensionContext): string {
  return path.join(ctx.logUri.fsPath, 'Parallel Run.log');
}

async function logLineFor(ctx: vscode.ExtensionContext, what: string, after: number): Promise<string> {
  return waitFor(`the refusal "${what}" in the Parallel Run log`, () => {
    const file = logFile(ctx);
    if (!fs.existsSync(file)) return undefined;
    const lines = fs.readFileSync(file, 'utf8').split('\n').slice(after);
    return lines.find((l) => l.includes(`cannot ${what}: this workspace is not trusted`));
  }, 10_000);
}

function logLength(ctx: vscode.ExtensionContext): number {
  return fs.existsSync(logFile(ctx)) ? fs.readFileSync(logFile(ctx), 'utf8').split('\n').length - 1 : 0;
}

describe('untrusted workspace', function () {
  this.timeout(120_000);
  let ctx: vscode.ExtensionContext;
  let finishedRun: string;

  before(async function () {
    this.timeout(180_000);
    assert.strictEqual(vscode.workspace.isTrusted, false, 'this launch must open the folder UNTRUSTED (PR_TEST_TRUST=untrusted)');
    ctx = (await services()).context as vscode.ExtensionContext;
    // run history to read: a real run made by the engine through the CLI, started by the test itself
    // (trusted code), not by the extension. fail_some.py fails a03 and a07: a "failed" run that both
    // Resume and Re-run Failed would accept if they were allowed to start anything.
    // (asynchronously: a synchronous wait would freeze the extension host for the whole run)
    const py = (await execFileP('python3', ['-c', 'import sys; print(sys.executable)'])).stdout.trim();
    assert.ok(py && fs.existsSync(py), `no real python3 (${py})`);
    const cli = await execFileP(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'run', '--script', 'fail_some.py', '--files', 'data/*.txt',
      '-j', '2', '--python', py, '--label', 'recorded before the window', '--quiet'], { cwd: folder().uri.fsPath, timeout: 120_000 })
      .then(() => ({ code: 0, out: '' }), (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code, out: `${err.stdout}\n${err.stderr}` }));
    assert.strictEqual(cli.code, 1, `the CLI run should end with failures (exit 1):\n${cli.out}`);
    const dirs = runDirs();
    assert.strictEqual(dirs.length, 1, 'one recorded run');
    finishedRun = ws('.parallel-run', 'runs', dirs[0]);
    assert.ok(fs.existsSync(path.join(finishedRun, 'report.json')), 'the recorded run is finished');
  });

  // what each refusal names (requireTrust(what)); one policy for all: a call with an argument object
  // rejects, a call from the UI (no argument, a Uri, a selection) resolves quietly
  const refusals: Array<{ title: string; id: string; what: string; args: () => unknown[]; rejects: boolean }> = [
    { title: 'Run Script over Files (with arguments)', id: Commands.runScript, what: 'run scripts', rejects: true,
      args: () => [{ script: 'ok.py', files: 'data/*.txt', workers: 2, wait: true, openReport: false }] },
    { title: 'Run Script over Files (from the palette: refuses before asking anything)', id: Commands.runScript, what: 'run scripts', rejects: false,
      args: () => [] },
    { title: 'Run a Script over These Files (explorer selection)', id: Commands.runOverSelection, what: 'run scripts', rejects: false,
      args: () => [vscode.Uri.file(ws('ok.py')), [vscode.Uri.file(ws('ok.py')), vscode.Uri.file(ws('data', 'a01.txt'))]] },
    { title: 'Run Again', id: Commands.runAgain, what: 'run scripts', rejects: true, args: () => [{ wait: true }] },
    { title: 'Resume Last Run', id: Commands.resumeLastRun, what: 'run scripts', rejects: true, args: () => [{ runDir: finishedRun, wait: true }] },
    { title: 'Re-run Failed Files', id: Commands.rerunFailed, what: 'run scripts', rejects: true, args: () => [{ runDir: finishedRun, wait: true }] },
    { title: 'Measure Speedup', id: Commands.measureSpeedup, what: 'measure speedup', rejects: true,
      args: () => [{ script: 'sweep/cpu_task.py', files: ['sweep/in/*'], budgetSeconds: 5 }] },
    { title: 'Measure Speedup (the code lens: a Uri)', id: Commands.measureSpeedup, what: 'measure speedup', rejects: false,
      args: () => [vscode.Uri.file(ws('sweep', 'cpu_task.py'))] },
    { title: 'Inspect BLAS Threads', id: Commands.inspectBlas, what: 'inspect the BLAS of your Python', rejects: true, args: () => [{ bench: true }] },
    { title: 'Matrix Demo', id: Commands.matrixDemo, what: 'run the matrix demo', rejects: true, args: () => [{ workers: [1, 2], show: false }] },
    { title: 'Run Notebook over Files', id: Commands.runNotebook, what: 'run notebooks', rejects: true,
      args: () => [{ notebook: 'analysis.ipynb', files: 'data/*.txt', wait: true }] },
    { title: 'Submit to Slurm', id: Commands.submitSlurm, what: 'submit scripts to Slurm', rejects: true,
      args: () => [{ script: 'ok.py', files: 'data/*.txt', wait: true }] },
    { title: 'Submit to Slurm (the explorer: a Uri)', id: Commands.submitSlurm, what: 'submit scripts to Slurm', rejects: false,
      args: () => [vscode.Uri.file(ws('ok.py'))] },
    { title: 'Run over a Grid (the function lens)', id: Commands.runGrid, what: 'run scripts', rejects: true,
      args: () => [{ script: 'ok.py', func: 'main', grid: { x: '1,2' }, wait: true }] },
    { title: 'Re-run These Files (a failure group)', id: Commands.rerunFiles, what: 'run scripts', rejects: true,
      args: () => [{ runDir: finishedRun, files: ['data/a03.txt'], wait: true }] },
    { title: 'Debug This File', id: Commands.debugFile, what: 'debug a file', rejects: true,
      args: () => [{ runDir: finishedRun, file: 'data/a03.txt' }] },
  ];

  it('covers every command that starts processes', () => {
    assert.deepStrictEqual([...new Set(refusals.map((r) => r.id))].sort(), [...TRUST_REQUIRED_COMMANDS].sort());
  });

  it('one policy: exactly the calls with an argument object reject', () => {
    for (const r of refusals) {
      const a0 = r.args()[0];
      const programmatic = !!a0 && typeof a0 === 'object' && !(a0 instanceof vscode.Uri) && !Array.isArray(a0);
      assert.strictEqual(r.rejects, programmatic, r.title);
    }
    // both kinds are covered, for commands of several features
    assert.ok(refusals.some((r) => r.rejects) && refusals.some((r) => !r.rejects));
  });

  it('(self-check) the process watch does see a short-lived python child', async () => {
    const out = await watchChildren(async () => {
      await new Promise((resolve) => spawn('python3', ['-c', 'import time; time.sleep(0.3)'], { stdio: 'ignore' }).on('exit', resolve));
    });
    assert.ok(out.children.some((c) => /python/.test(c)), `the watch missed it: ${JSON.stringify(out.children)}`);
  });

  for (const r of refusals) {
    it(`${r.title} refuses: nothing started, no run directory, the refusal names trust`, async () => {
      const dirsBefore = runDirs();
      const lines = logLength(ctx);
      const out = await watchChildren(() => vscode.commands.executeCommand(r.id, ...r.args()));
      if (r.rejects) {
        // a caller passing arguments gets the refusal as a rejection naming trust and the fix
        assert.match(String(out.error), /not trusted/, `expected a rejection naming trust, got ${out.error ?? JSON.stringify(out.value)}`);
        assert.match(String(out.error), /Manage Workspace Trust/);
      } else {
        assert.strictEqual(out.error, undefined, `the command should return quietly, it failed: ${out.error}`);
        assert.strictEqual(out.value, undefined, 'nothing started: no handle, no result');
      }
      assert.deepStrictEqual(out.children, [], 'no child process was started');
      assert.deepStrictEqual(runDirs(), dirsBefore, 'no new run directory');
      // the same text the warning notification shows (it offers "Manage Workspace Trust")
      const line = await logLineFor(ctx, r.what, lines);
      assert.match(line, /Trust it with "Manage Workspace Trust"; run history and reports stay available/);
    });
  }

  it('the Runs view lists the recorded run with its files', async () => {
    const api = await services();
    await vscode.commands.executeCommand(Commands.refreshRuns);
    const runs = await waitFor('the recorded run in the tree', async () => {
      const n = (await api.runsTree.getChildren(undefined)) as Node[];
      return n.length ? n : undefined;
    });
    assert.deepStrictEqual(runs.map((n) => path.resolve(n.runDir!)), [path.resolve(finishedRun)]);
    const item = await api.runsTree.getTreeItem(runs[0]);
    assert.strictEqual(item.label, 'recorded before the window');
    assert.match(String(item.description), /10\/12 ✓ · 2 ✗/);
    // (its children: a Failures node with a child per group, then the 12 files)
    const files = ((await api.runsTree.getChildren(runs[0])) as Node[]).filter((c) => c.record);
    assert.strictEqual(files.length, 12);
    assert.deepStrictEqual(files.slice(0, 2).map((c) => [path.basename(c.record!.file), c.record!.status]), [['a03.txt', 'failed'], ['a07.txt', 'failed']]);
    // a file's log opens (reading history is not running anything)
    const fileItem = await api.runsTree.getTreeItem(files[0]);
    await vscode.commands.executeCommand(fileItem.command!.command, ...(fileItem.command!.arguments ?? []));
    assert.match(vscode.window.activeTextEditor!.document.getText(), /a03\.txt: refusing this file/);
  });

  it('Show Run Report opens the recorded run', async () => {
    const res = (await vscode.commands.executeCommand(Commands.showReport, { runDir: finishedRun })) as { runDir: string; via: string };
    assert.strictEqual(path.resolve(res.runDir), path.resolve(finishedRun));
    assert.strictEqual(res.via, 'panel');
    const tab = await waitFor('the report tab', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && /recorded before the window/.test(t.label)));
    assert.ok(tab.isActive, 'the report is the active tab');
  });

  it('ignores parallelRun.python.path from the workspace settings (a restricted setting)', async () => {
    const api = await services();
    const settingsFile = ws('.vscode', 'settings.json');
    assert.match(fs.readFileSync(settingsFile, 'utf8'), /python-from-workspace/, 'the workspace really sets it');
    const inspected = vscode.workspace.getConfiguration(CONFIG_SECTION, folder().uri).inspect<string>(Settings.pythonPath);
    assert.notStrictEqual(vscode.workspace.getConfiguration(CONFIG_SECTION, folder().uri).get(Settings.pythonPath), WORKSPACE_PYTHON);
    assert.notStrictEqual(inspected?.workspaceValue, WORKSPACE_PYTHON);
    assert.notStrictEqual(inspected?.workspaceFolderValue, WORKSPACE_PYTHON);
    const config = api.config as { get(scope?: vscode.Uri): { pythonPath: string } };
    assert.strictEqual(config.get(folder().uri).pythonPath, '', "the extension's settings keep the (empty) default");
  });

  // last: VS Code's trust request for tasks stays open (a modal nobody answers in this headless window)
  it('tasks: VS Code neither lists nor starts parallel-run tasks until the workspace is trusted', async () => {
    const dirsBefore = runDirs();
    const started: string[] = [];
    const sub = vscode.tasks.onDidStartTask((e) => started.push(e.execution.task.name));
    try {
      // listing tasks in restricted mode first asks the user for trust ("Listing and running tasks
      // requires that some of the files in this workspace be executed as code"): no provider is asked
      // (ours would list the tasks.json entries "pr: ok", ...) while the request is unanswered
      const listing = await Promise.race([
        vscode.tasks.fetchTasks({ type: TASK_TYPE }).then((t) => `listed ${t.map((x) => x.name).join(', ')}`),
        sleep(5000).then(() => 'pending'),
      ]);
      assert.strictEqual(listing, 'pending', 'tasks are not listed before trust is granted');
      // a task of our type handed straight to the task system is not started either
      const task = new vscode.Task({ type: TASK_TYPE, script: 'ok.py', files: ['data/*.txt'] }, folder(), 'untrusted direct', TASK_TYPE,
        new vscode.ShellExecution(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'run', '--script', 'ok.py', '--files', 'data/*.txt']));
      const out = await watchChildren(() => vscode.tasks.executeTask(task).then(() => sleep(4000)));
      assert.strictEqual(out.error, undefined);
      assert.deepStrictEqual(started, [], 'no task started');
      assert.deepStrictEqual(out.children, [], 'no child process was started');
      assert.deepStrictEqual(runDirs(), dirsBefore, 'no new run directory');
    } finally {
      sub.dispose();
    }
  });
});
