/**
 * Failures in the real extension host: a script that does not compile is refused; the Problems panel
 * gets one diagnostic per failure group at the user's line (gone when the files succeed on a re-run
 * or the run is deleted); the Explorer marks the latest run's inputs; "Debug This File" without the
 * Python Debugger types the task's exact command line into a real terminal (run here, it re-creates
 * the task's argv, cwd and environment); the end-of-run notification says what happened.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { FailureGroup } from '../../extension/core/run/failures';
import type { RunReport } from '../../extension/core/run/types';
import type { ReportRendered } from '../../extension/shared/protocol';
import { Commands, CONFIG_SECTION } from '../../extension/shared/ids';
import { rejection, runDirOf, services, waitFor, ws } from './runHelpers';

interface FailuresApiLike {
  latest: { whenReady(): Promise<void>; all(): Array<{ runDir: string }> };
  decorations: vscode.FileDecorationProvider;
}
interface ReportApiLike {
  show(runDir: string): Promise<{ panel: vscode.WebviewPanel; handleMessage(m: unknown): Promise<void> }>;
  waitForRendered(pred: (r: ReportRendered) => boolean): Promise<{ rendered: ReportRendered }>;
}
interface NoticesApi {
  notices: Array<{ severity: string; text: string; actions: string[]; runDir: string }>;
}

const HEADER_LINE = 21; // `return header["EXPTIME"]` in test/fixtures/workspace/header.py

async function failures(): Promise<FailuresApiLike> {
  return (await services()).failures as FailuresApiLike;
}

function headerDiagnostics(): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(vscode.Uri.file(ws('header.py'))).filter((d) => d.source === 'Parallel Run');
}

async function runHeader(label: string, extra: Record<string, unknown> = {}): Promise<RunReport> {
  return (await vscode.commands.executeCommand(Commands.runScript, {
    script: 'header.py', files: 'data/*.txt', workers: 2, wait: true, openReport: false, label, ...extra,
  })) as RunReport;
}

describe('failures in the editor', function () {
  this.timeout(180_000);

  afterEach(() => fs.rmSync(ws('fixed.flag'), { force: true }));

  it('a script with a syntax error is refused before anything starts, naming the file and line', async () => {
    fs.writeFileSync(ws('broken.py'), 'import sys\n\ndef f(:\n    pass\n');
    try {
      const before = fs.existsSync(ws('.parallel-run', 'runs')) ? fs.readdirSync(ws('.parallel-run', 'runs')).length : 0;
      const msg = await rejection(vscode.commands.executeCommand(Commands.runScript, { script: 'broken.py', files: 'data/*.txt', wait: true, openReport: false }));
      assert.match(msg, /broken\.py line 3: SyntaxError: invalid syntax .*nothing ran/);
      const after = fs.existsSync(ws('.parallel-run', 'runs')) ? fs.readdirSync(ws('.parallel-run', 'runs')).length : 0;
      assert.strictEqual(after, before, 'no run directory');
    } finally {
      fs.rmSync(ws('broken.py'), { force: true });
    }
  });

  it('Problems: one diagnostic per group at the line, with logs; gone once the files succeed on a re-run', async () => {
    const report = await runHeader('failures: problems');
    assert.strictEqual(report.counts.failed, 2);
    const diags = await waitFor('the diagnostic', () => {
      const d = headerDiagnostics();
      return d.length === 1 ? d : undefined;
    });
    const d = diags[0];
    assert.strictEqual(d.message, "2 of 12 files failed here: KeyError: 'EXPTIME'");
    assert.strictEqual(d.range.start.line, HEADER_LINE - 1);
    assert.strictEqual(d.severity, vscode.DiagnosticSeverity.Error);
    const logs = (d.relatedInformation ?? []).map((r) => r.location.uri.fsPath);
    assert.strictEqual(logs.length, 2);
    assert.ok(logs.every((l) => l.startsWith(runDirOf(report)) && l.endsWith('.err') && fs.readFileSync(l, 'utf8').includes("KeyError: 'EXPTIME'")));
    // the quick fixes on it (the provider needs the document open)
    await vscode.workspace.openTextDocument(vscode.Uri.file(ws('header.py')));
    const actions = (await vscode.commands.executeCommand('vscode.executeCodeActionProvider', vscode.Uri.file(ws('header.py')), d.range)) as vscode.CodeAction[];
    const titles = actions.map((a) => a.title);
    assert.ok(titles.some((t) => /^Debug This File \(a0[37]\.txt\)$/.test(t)), titles.join(' | '));
    assert.ok(titles.includes('Re-run These 2 Files'));

    // the user fixes the cause and re-runs the group: merged into the same run, the diagnostic goes
    fs.writeFileSync(ws('fixed.flag'), '');
    const group = report.failureGroups![0] as FailureGroup;
    const again = (await vscode.commands.executeCommand(Commands.rerunFiles, { runDir: runDirOf(report), files: group.files, wait: true, openReport: false })) as RunReport;
    assert.strictEqual(runDirOf(again), runDirOf(report), 'the same run');
    assert.deepStrictEqual([again.status, again.counts.total, again.counts.succeeded, again.counts.skipped], ['succeeded', 12, 2, 10]);
    await waitFor('the diagnostic to go', () => headerDiagnostics().length === 0);
  });

  it('Problems: the diagnostic goes when its run is deleted', async () => {
    // the run before it succeeded: once the failing run is deleted, that one is the latest again
    fs.writeFileSync(ws('fixed.flag'), '');
    await runHeader('failures: all good');
    await waitFor('no diagnostic', () => headerDiagnostics().length === 0);
    fs.rmSync(ws('fixed.flag'));
    const report = await runHeader('failures: to delete');
    await waitFor('the diagnostic', () => headerDiagnostics().length === 1);
    assert.strictEqual(await vscode.commands.executeCommand(Commands.deleteRun, { runDir: runDirOf(report), confirm: false }), true);
    await waitFor('the diagnostic to go', () => headerDiagnostics().length === 0);
  });

  it('Explorer: the latest run\'s inputs are marked (badge, colour, error as tooltip); a setting turns it off', async () => {
    await runHeader('failures: explorer');
    const api = await failures();
    const deco = (p: string) => api.decorations.provideFileDecoration(vscode.Uri.file(ws(p)), new vscode.CancellationTokenSource().token) as vscode.FileDecoration | undefined;
    // the marks follow the latest run once its report is read: until then they may still show the run before
    const bad = await waitFor('a failed mark on a03', () => (deco('data/a03.txt')?.badge === '✗' ? deco('data/a03.txt') : undefined));
    assert.strictEqual((bad.color as vscode.ThemeColor).id, 'testing.iconFailed');
    assert.match(bad.tooltip!, /failed in the latest run — KeyError: 'EXPTIME' \(header\.py:21\)/);
    const ok = deco('data/a01.txt')!;
    assert.strictEqual(ok.badge, '✓');
    assert.strictEqual(deco('header.py'), undefined, 'not an input');
    const cfg = vscode.workspace.getConfiguration(CONFIG_SECTION);
    await cfg.update('explorerDecorations', false, vscode.ConfigurationTarget.Workspace);
    try {
      await waitFor('marks off', () => deco('data/a03.txt') === undefined);
    } finally {
      await cfg.update('explorerDecorations', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await waitFor('marks back', () => deco('data/a03.txt')?.badge === '✗');
  });

  it('Debug This File without the Python Debugger: a terminal with the exact command line, which re-creates the task', async () => {
    assert.strictEqual(vscode.extensions.getExtension('ms-python.debugpy'), undefined, 'this launch has no Python Debugger');
    const report = await runHeader('failures: debug in a terminal', { threads: 1 });
    const runDir = runDirOf(report);
    const task = report.tasks.find((t) => path.basename(t.file) === 'a07.txt')!;
    const probe = ws('probes', 'a07.txt.json');
    const asRun = JSON.parse(fs.readFileSync(probe, 'utf8'));
    fs.rmSync(probe);
    const out = (await vscode.commands.executeCommand(Commands.debugFile, { runDir, file: task.file })) as { via: string; commandLine: string; terminal: vscode.Terminal };
    assert.strictEqual(out.via, 'terminal');
    assert.match(out.commandLine, new RegExp(`OMP_NUM_THREADS=1 .*PARALLEL_SEQ=${task.index} PARALLEL_JOBSLOT=${task.slot} `));
    assert.match(out.commandLine, /header\.py' 'data\/a07\.txt'$|header\.py data\/a07\.txt$/);
    const opts = out.terminal.creationOptions as vscode.TerminalOptions;
    assert.strictEqual(opts.cwd, ws());
    await waitFor('the terminal shown', () => vscode.window.activeTerminal === out.terminal);
    // the command line is typed, not run: press Enter in the real terminal and the task runs again as it ran
    out.terminal.sendText('', true);
    const again = await waitFor('the re-run in the terminal', () => (fs.existsSync(probe) ? JSON.parse(fs.readFileSync(probe, 'utf8')) : undefined), 60_000);
    assert.deepStrictEqual(again, asRun);
    out.terminal.dispose();
  });

  it('the report panel: failure groups first, the traceback\'s exception line, and the group\'s buttons', async () => {
    const report = await runHeader('failures: report panel');
    const api = (await services()).reportPanel as ReportApiLike;
    const panel = await api.show(runDirOf(report));
    const { rendered } = await api.waitForRendered((r) => r.runId === report.runId && r.view === 'run');
    assert.deepStrictEqual(rendered.failureGroups, ["KeyError: 'EXPTIME' (header.py:21)"]);
    assert.strictEqual(rendered.failures, 2);
    assert.strictEqual(rendered.stragglers, 10, 'stragglers list succeeded files only');
    // "Copy the file list" of the group: the host takes the files from the report it holds
    await vscode.env.clipboard.writeText('');
    const g = report.failureGroups![0] as FailureGroup;
    await panel.handleMessage({ type: 'failureGroup', key: g.key, action: 'copy' });
    assert.deepStrictEqual((await vscode.env.clipboard.readText()).trim().split('\n').map((f) => path.relative(ws(), f)).sort(), ['data/a03.txt', 'data/a07.txt']);
    // "Re-run failed": merged into this run
    fs.writeFileSync(ws('fixed.flag'), '');
    const runs = (await services()).runs as unknown as { onDidChange: vscode.Event<{ kind: string; outDir: string; report?: RunReport }> };
    const finished = new Promise<RunReport>((resolve) => {
      const sub = runs.onDidChange((e) => {
        if (e.kind === 'finished' && e.outDir === runDirOf(report) && e.report) {
          sub.dispose();
          resolve(e.report);
        }
      });
    });
    await panel.handleMessage({ type: 'rerunFailed' });
    const merged = await finished;
    assert.deepStrictEqual([merged.status, merged.counts.total, merged.counts.succeeded, merged.counts.skipped], ['succeeded', 12, 2, 10]);
    panel.panel.dispose();
  });

  it('the end notification: N of M failed with the largest group; succeeded; a setting turns it off', async () => {
    const runs = (await services()).runs as unknown as NoticesApi;
    const failed = await runHeader('failures: notice');
    const n = await waitFor('the notice', () => runs.notices.find((x) => x.runDir === runDirOf(failed)));
    assert.strictEqual(n.severity, 'warning');
    assert.strictEqual(n.text, `Parallel Run "failures: notice": 2 of 12 files failed: KeyError: 'EXPTIME' (header.py:21).`);
    assert.deepStrictEqual(n.actions, ['Show Report', 'Re-run Failed']);
    fs.writeFileSync(ws('fixed.flag'), '');
    const ok = await runHeader('failures: notice ok', { files: 'data/a0[1-3].txt' });
    const m = await waitFor('the notice', () => runs.notices.find((x) => x.runDir === runDirOf(ok)));
    assert.match(m.text, /^Parallel Run "failures: notice ok" succeeded: 3 files in /);
    assert.deepStrictEqual(m.actions, ['Show Report']);
    const cfg = vscode.workspace.getConfiguration(CONFIG_SECTION);
    await cfg.update('notifyWhenDone', false, vscode.ConfigurationTarget.Workspace);
    try {
      const quiet = await runHeader('failures: no notice', { files: 'data/a0[1-3].txt' });
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(!runs.notices.some((x) => x.runDir === runDirOf(quiet)), 'no notice with notifyWhenDone off');
    } finally {
      await cfg.update('notifyWhenDone', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
