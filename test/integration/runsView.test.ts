/**
 * The Runs view's data (services.runsTree, the view's TreeDataProvider) in the real extension host:
 * runs newest first with status, counts and context values for the menus; files under a run, failed
 * first, each opening its log.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunReport } from '../../extension/core/run/types';
import { Commands } from '../../extension/shared/ids';
import { runDirOf, services, waitFor, ws } from './runHelpers';

interface Node {
  kind: string;
  runDir?: string;
  record?: { file: string; status: string };
}

describe('Runs view', function () {
  this.timeout(120_000);
  let failedRun: RunReport;

  before(async () => {
    await services();
    fs.rmSync(ws('fixed.flag'), { force: true });
    failedRun = (await vscode.commands.executeCommand(Commands.runScript, {
      script: 'fail_some.py', files: 'data/*.txt', workers: 2, wait: true, openReport: false, label: 'tree: failing run',
    })) as RunReport;
  });

  async function runNodes(): Promise<Node[]> {
    const api = await services();
    return (await api.runsTree.getChildren(undefined)) as Node[];
  }

  it('lists the runs of the workspace, newest first, with status, counts and menu context', async () => {
    const api = await services();
    const runDir = runDirOf(failedRun);
    const nodes = await waitFor('the run in the tree', async () => {
      const n = await runNodes();
      return n.some((x) => x.runDir && path.resolve(x.runDir) === path.resolve(runDir)) ? n : undefined;
    });
    assert.ok(nodes.every((n) => n.kind === 'run'), 'one folder: runs at the root');
    assert.strictEqual(path.resolve(nodes[0].runDir!), path.resolve(runDir), 'newest first');
    const item = await api.runsTree.getTreeItem(nodes[0]);
    assert.strictEqual(item.label, 'tree: failing run');
    // the count comes first, right after a label short enough to leave it visible
    assert.match(String(item.description), /^10\/12 ✓ · 2 ✗ · /);
    assert.match(String(item.contextValue), /^run\.failed\.hasFailures$/);
    assert.strictEqual((item.iconPath as vscode.ThemeIcon).id, 'error');
    assert.strictEqual(item.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    const runDirs = fs.readdirSync(ws('.parallel-run', 'runs')).filter((d) => fs.existsSync(ws('.parallel-run', 'runs', d, 'run.json')));
    assert.strictEqual(nodes.length, runDirs.length, 'every run directory is listed');
  });

  it('expands a run to its files, failed first, each opening its log', async () => {
    const api = await services();
    const runDir = runDirOf(failedRun);
    const run = (await runNodes()).find((n) => n.runDir && path.resolve(n.runDir) === path.resolve(runDir))!;
    const all = (await api.runsTree.getChildren(run)) as Node[];
    // the failure groups come first (see the next test), then the files
    const children = all.filter((c) => c.kind === 'task');
    assert.strictEqual(children.length, 12);
    assert.deepStrictEqual(children.slice(0, 2).map((c) => path.basename(c.record!.file)), ['a03.txt', 'a07.txt']);
    assert.ok(children.slice(2).every((c) => c.record!.status === 'succeeded'));
    const failedItem = await api.runsTree.getTreeItem(children[0]);
    assert.strictEqual(failedItem.label, 'a03.txt');
    assert.match(String(failedItem.description), /failed .* exit 3/);
    assert.strictEqual(failedItem.command?.command, Commands.openTaskLog);
    // clicking it opens the stderr log of the failed file
    const opened = (await vscode.commands.executeCommand(failedItem.command!.command, ...(failedItem.command!.arguments ?? []))) as string;
    assert.match(opened, /\.err$/);
    assert.match(vscode.window.activeTextEditor!.document.getText(), /a03\.txt: refusing this file/);
  });

  it('a Failures node lists the failure groups; a group opens a log, copies its file list', async () => {
    const api = await services();
    const runDir = runDirOf(failedRun);
    const run = (await runNodes()).find((n) => n.runDir && path.resolve(n.runDir) === path.resolve(runDir))!;
    const [failures] = (await api.runsTree.getChildren(run)) as Node[];
    assert.strictEqual(failures.kind, 'failures');
    const fi = await api.runsTree.getTreeItem(failures);
    assert.strictEqual(fi.label, 'Failures');
    assert.strictEqual(fi.description, '2 files, 1 kind of error');
    const groups = (await api.runsTree.getChildren(failures)) as Array<Node & { files: string[] }>;
    assert.strictEqual(groups.length, 1);
    const gi = await api.runsTree.getTreeItem(groups[0]);
    // a03 and a07 say their own names: one group, said in its normalised form
    assert.strictEqual(gi.label, "exit code 3: aN.txt: refusing this file (matches '…')");
    assert.match(String(gi.description), /^2 files, e\.g\. a03\.txt$/);
    assert.strictEqual(gi.contextValue, 'failureGroup');
    assert.strictEqual(gi.command?.command, Commands.openTaskLog);
    const opened = (await vscode.commands.executeCommand(gi.command!.command, ...(gi.command!.arguments ?? []))) as string;
    assert.match(opened, /a03\.txt\.err$/);
    const copied = (await vscode.commands.executeCommand(Commands.copyFileList, { runDir, files: groups[0].files })) as string;
    assert.deepStrictEqual(copied.trim().split('\n').map((f) => path.relative(ws(), f)), ['data/a03.txt', 'data/a07.txt']);
    assert.strictEqual(await vscode.env.clipboard.readText(), copied);
  });

  it('menu commands accept the run node (re-run failed from the tree)', async () => {
    const runDir = runDirOf(failedRun);
    const run = (await runNodes()).find((n) => n.runDir && path.resolve(n.runDir) === path.resolve(runDir))!;
    fs.writeFileSync(ws('fixed.flag'), '');
    try {
      // a node from the tree carries runDir; the command returns the handle
      const handle = (await vscode.commands.executeCommand(Commands.rerunFailed, run)) as { done: Promise<RunReport> };
      const report = await handle.done;
      // merged into that run: the whole run's counts, the two failed files ran again
      assert.strictEqual(report.runId, failedRun.runId);
      assert.deepStrictEqual([report.status, report.counts.total, report.counts.succeeded, report.counts.skipped], ['succeeded', 12, 2, 10]);
    } finally {
      fs.rmSync(ws('fixed.flag'), { force: true });
    }
  });

  it('refreshes when a run directory is deleted', async () => {
    const api = await services();
    const r = (await vscode.commands.executeCommand(Commands.runScript, {
      script: 'ok.py', files: 'data/a01.txt', wait: true, openReport: false, label: 'tree: to delete',
    })) as RunReport;
    const runDir = runDirOf(r);
    let fired = 0;
    const sub = api.runsTree.onDidChangeTreeData!(() => fired++);
    try {
      assert.ok((await runNodes()).some((n) => n.runDir === runDir));
      assert.strictEqual(await vscode.commands.executeCommand(Commands.deleteRun, { runDir, confirm: false }), true);
      await waitFor('a tree refresh', () => fired > 0);
      assert.ok(!(await runNodes()).some((n) => n.runDir === runDir));
    } finally {
      sub.dispose();
    }
  });
});
