/**
 * The report panel in the real extension host: opens for a finished run and receives the report (the
 * webview acknowledges what it drew), updates live during a run, restores through the serializer,
 * opens logs, compares two runs, exports HTML and JSON, and shows a sweep measured from real runs.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { analyseSweep } from '../../extension/core/sweep';
import type { RunHandle, RunReport } from '../../extension/core/run/types';
import { Commands, WEBVIEW_REPORT } from '../../extension/shared/ids';
import type { ReportRendered, ReportPanelState } from '../../extension/shared/protocol';
import { closeAll, type PanelLike, reportApi } from './reportHelpers';
import { runDirOf, services, sleep } from './runHelpers';

async function run(args: Record<string, unknown>): Promise<RunReport> {
  return (await vscode.commands.executeCommand(Commands.runScript, { wait: true, openReport: false, ...args })) as RunReport;
}


describe('report panel', function () {
  this.timeout(180_000);
  let failing: RunReport;
  let failingDir: string;

  before(async () => {
    failing = await run({ script: 'fail_some.py', files: 'data/*.txt', workers: 2, label: 'report-fixture' });
    failingDir = runDirOf(failing);
  });
  afterEach(async () => closeAll(await reportApi()));

  it('opens for a finished run (Show Run Report) and renders the report it received', async () => {
    const api = await reportApi();
    await vscode.commands.executeCommand(Commands.showReport, { runDir: failingDir });
    const { panel, rendered } = await api.waitForRendered((r) => r.runId === failing.runId && r.view === 'run');
    assert.strictEqual(panel.panel.viewType, WEBVIEW_REPORT);
    assert.strictEqual(rendered.live, false);
    assert.strictEqual(rendered.tasks, 12, 'one bar per file');
    assert.strictEqual(rendered.lanes, 2, 'one lane per worker');
    assert.strictEqual(rendered.failures, 2, 'a03 and a07 fail');
    assert.strictEqual(rendered.stragglers, 10);
    assert.ok(rendered.fileNames.some((f) => f.endsWith('a03.txt')), 'failed file named in the failures table');
    assert.deepStrictEqual(rendered.saved, { kind: 'run', runDir: failingDir }, 'webview saved its run directory for the serializer');
    assert.match(panel.panel.title, /report-fixture/);
    assert.deepStrictEqual(panel.postedTypes, ['report'], 'data arrived by postMessage after ready, once');
    // CPU utilisation: the run recorded samples and the chart drew them
    assert.ok(failing.cpuSamples.length > 0, 'the run recorded CPU samples');
    assert.strictEqual(rendered.cpuSamples, failing.cpuSamples.length, 'the panel received every sample');
    assert.strictEqual(rendered.cpuDrawn, failing.cpuSamples.length, 'the CPU chart drew every sample on its canvas');
    // the interpreter's BLAS library, from a probe of the run's interpreter (numpy with OpenBLAS here)
    assert.match(rendered.blas ?? '', /openblas/i, `BLAS library shown: ${rendered.blas}`);
  });

  it('panel HTML: CSP default-src none, one nonce script, and no run data in the markup', async () => {
    const api = await reportApi();
    const p = await api.show(failingDir);
    await api.waitForRendered((r, q) => q === p && r.runId === failing.runId);
    const html = p.panel.webview.html;
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
    assert.ok(csp, 'a CSP meta tag');
    assert.match(csp, /(^|;)\s*default-src 'none'(;|$)/);
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce && nonce.length >= 16, `script-src is a nonce: ${csp}`);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]);
    assert.ok(scripts.length >= 1, 'the report script');
    for (const attrs of scripts) assert.ok(attrs.includes(`nonce="${nonce}"`), `every script carries the CSP nonce: <script${attrs}>`);
    // data only through postMessage: nothing of the run is in the page
    assert.ok(!html.includes(failing.runId), 'run id not in the HTML');
    assert.ok(!html.includes('report-fixture'), 'label not in the HTML');
    for (const t of failing.tasks) assert.ok(!html.includes(path.basename(t.file)), `${path.basename(t.file)} not in the HTML`);
  });

  it('opens from the Runs view: the run node\'s Show Run Report renders the run', async () => {
    const api = await reportApi();
    const s = await services();
    const tree = s.runsTree as vscode.TreeDataProvider<{ kind?: string; runDir?: string }>;
    const nodes = (await tree.getChildren()) ?? [];
    const node = nodes.find((n) => n.runDir && path.resolve(n.runDir) === path.resolve(failingDir));
    assert.ok(node, `the Runs view lists the run (${nodes.length} nodes)`);
    const item = await tree.getTreeItem(node);
    assert.match(String(item.contextValue), /^run/, 'the inline Show Run Report menu applies to this node');
    // what the view's inline button does: the command with the tree node as its argument
    await vscode.commands.executeCommand(Commands.showReport, node);
    const { rendered } = await api.waitForRendered((r) => r.runId === failing.runId && r.view === 'run');
    assert.strictEqual(rendered.tasks, 12);
  });

  it('one report tab per run, reused: Show Run Report again, from the Runs view and from the folder', async () => {
    const api = await reportApi();
    const tabsOf = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && /report-fixture/.test(t.label));
    await vscode.commands.executeCommand(Commands.showReport, { runDir: failingDir });
    await api.waitForRendered((r) => r.runId === failing.runId && r.view === 'run');
    await vscode.commands.executeCommand(Commands.showReport, { runDir: failingDir });
    await vscode.commands.executeCommand(Commands.showReport, vscode.Uri.file(failingDir));
    const tree = (await services()).runsTree as vscode.TreeDataProvider<{ runDir?: string }>;
    const node = ((await tree.getChildren()) ?? []).find((n) => n.runDir && path.resolve(n.runDir) === path.resolve(failingDir));
    await vscode.commands.executeCommand(Commands.showReport, node);
    await sleep(500);
    assert.strictEqual(api.panels().length, 1, 'one panel');
    assert.strictEqual(tabsOf().length, 1, `one tab: ${tabsOf().map((t) => t.label)}`);
    assert.ok(tabsOf()[0].isActive, 'the reused tab is brought forward');
  });

  it('setting "open report when done": true opens the panel at the end of a run, false does not', async () => {
    const api = await reportApi();
    const cfg = () => vscode.workspace.getConfiguration('parallelRun');
    const panelFor = (dir: string) => api.panels().find((p) => (p as unknown as { runDir?: string }).runDir === dir);
    try {
      await cfg().update('openReportWhenDone', true, vscode.ConfigurationTarget.Workspace);
      const on = (await vscode.commands.executeCommand(Commands.runScript, { script: 'ok.py', files: 'data/a0[12].txt', workers: 2, wait: true, label: 'open-at-end on' })) as RunReport;
      const { rendered } = await api.waitForRendered((r) => r.runId === on.runId && r.view === 'run');
      assert.strictEqual(rendered.live, false);
      assert.ok(panelFor(runDirOf(on)), 'a panel shows the finished run');
      closeAll(api);
      await cfg().update('openReportWhenDone', false, vscode.ConfigurationTarget.Workspace);
      const off = (await vscode.commands.executeCommand(Commands.runScript, { script: 'ok.py', files: 'data/a0[12].txt', workers: 2, wait: true, label: 'open-at-end off' })) as RunReport;
      // the "on" case opened its panel within this time; give "off" the same chance to (wrongly) do so
      await sleep(3000);
      assert.strictEqual(panelFor(runDirOf(off)), undefined, 'no panel opened');
      assert.strictEqual(api.panels().length, 0);
    } finally {
      await cfg().update('openReportWhenDone', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('draws timed-out, retried and failed tasks as their own bar kinds', async () => {
    const api = await reportApi();
    const markers = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-kinds-'));
    const r = await run({ script: 'kinds.py', files: 'data/a0[1-6].txt', args: [markers], workers: 2, timeout: 2, retries: 1, label: 'kinds' });
    const byFile = new Map(r.tasks.map((t) => [path.basename(t.file), t]));
    assert.strictEqual(byFile.get('a01.txt')?.status, 'timedOut');
    assert.strictEqual(byFile.get('a02.txt')?.status, 'succeeded');
    assert.strictEqual(byFile.get('a02.txt')?.attempts, 2);
    assert.strictEqual(byFile.get('a03.txt')?.status, 'failed');
    await api.show(runDirOf(r));
    const { rendered } = await api.waitForRendered((x) => x.runId === r.runId && x.view === 'run');
    assert.deepStrictEqual(rendered.bars, { timedOut: 1, retried: 1, failed: 1, ok: 3 }, 'one bar per task, of its kind');
    assert.strictEqual(rendered.failures, 2, 'the timed-out and the failed task are in the failures table');
    fs.rmSync(markers, { recursive: true, force: true });
  });

  it('opens a task log from the panel (resolved from the record, not a path from the webview)', async () => {
    const api = await reportApi();
    const p = await api.show(failingDir);
    await api.waitForRendered((r, q) => q === p && r.runId === failing.runId);
    const failed = failing.tasks.find((t) => t.status === 'failed')!;
    const opened = new Promise<string>((resolve) => {
      const sub = api.onDidOpenLog((f) => {
        sub.dispose();
        resolve(f);
      });
    });
    await p.handleMessage({ type: 'openLog', index: failed.index, stream: 'stderr' });
    const file = await opened;
    assert.strictEqual(file, path.join(failingDir, failed.stderrLog));
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === file);
    assert.ok(editor, 'the log is open in an editor');
    assert.match(editor.document.getText(), /refusing this file/);
  });

  it('refuses a log that is a symbolic link out of logs/ (e.g. to /etc/shadow): nothing opened', async () => {
    const api = await reportApi();
    const other = await run({ script: 'fail_some.py', files: 'data/a0[3-4].txt', workers: 1, label: 'log-link' });
    const dir = runDirOf(other);
    const failed = other.tasks.find((t) => t.status === 'failed')!;
    // a secret outside the run, and the task's log replaced by a link to it
    const secret = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pr-secret-')), 'shadow');
    fs.writeFileSync(secret, 'root:$6$not-for-the-report-panel\n');
    const log = path.join(dir, failed.stderrLog);
    fs.rmSync(log);
    fs.symlinkSync(secret, log);
    const p = await api.show(dir);
    await api.waitForRendered((r, q) => q === p && r.runId === other.runId);
    const opened: string[] = [];
    const sub = api.onDidOpenLog((f) => opened.push(f));
    try {
      await p.handleMessage({ type: 'openLog', index: failed.index, stream: 'stderr' });
      await sleep(500);
    } finally {
      sub.dispose();
    }
    assert.deepStrictEqual(opened, [], 'no log was opened');
    const shown = vscode.workspace.textDocuments.filter((d) => d.getText().includes('not-for-the-report-panel'));
    assert.deepStrictEqual(shown.map((d) => d.uri.fsPath), [], 'the secret is in no editor');
    // the Runs view's Open Task Log refuses it too, naming the problem
    const message = await vscode.commands.executeCommand(Commands.openTaskLog, { runDir: dir, file: failed.file }).then(() => 'opened', (e: Error) => e.message);
    assert.match(message, /outside the run's logs folder/);
    assert.ok(!vscode.workspace.textDocuments.some((d) => d.getText().includes('not-for-the-report-panel')), 'still in no editor');
    fs.rmSync(path.dirname(secret), { recursive: true, force: true });
  });

  it('a hostile report.json (workers: 1e8, a slot of 5e7) or sweep.json (workers: 3e8) shows a clear message, not a hung panel', async () => {
    const api = await reportApi();
    const copy = (name: string, edit: (r: Record<string, unknown> & RunReport) => void): string => {
      const dir = path.join(path.dirname(failingDir), name);
      fs.cpSync(failingDir, dir, { recursive: true });
      const file = path.join(dir, 'report.json');
      const r = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> & RunReport;
      edit(r);
      fs.writeFileSync(file, JSON.stringify(r));
      const later = new Date(Date.now() + 5000); // newer than the journal: read as final, not rebuilt
      fs.utimesSync(file, later, later);
      return dir;
    };
    const cases: Array<{ dir: string; field: RegExp }> = [
      { dir: copy('hostile-workers', (r) => (r.workers = 1e8)), field: /report\.workers is 100000000, more than 10000/ },
      { dir: copy('hostile-slot', (r) => (r.tasks[0].slot = 5e7)), field: /report\.tasks\[0\]\.slot is 50000000, more than 10000/ },
    ];
    const sweepDir = copy('hostile-sweep', () => undefined);
    fs.writeFileSync(path.join(sweepDir, 'sweep.json'), JSON.stringify({ points: [{ workers: 1, threads: 1, wallMs: 100, speedup: 1 }, { workers: 3e8, threads: 1, wallMs: 1, speedup: 100 }], fit: { serialFraction: 0.1 } }));
    cases.push({ dir: sweepDir, field: /sweep\.points\[1\]\.workers is 300000000, more than 10000/ });
    for (const c of cases) {
      await vscode.commands.executeCommand(Commands.showReport, { runDir: c.dir });
      const { rendered } = await api.waitForRendered((r) => r.view === 'error' && (r.message ?? '').includes(c.dir), 60_000);
      assert.match(rendered.message ?? '', c.field);
      assert.match(rendered.message ?? '', /edited or is damaged/);
      // the export refuses it too (a browser would hang on the file)
      const exported = await vscode.commands.executeCommand(Commands.exportReport, { runDir: c.dir }, { format: 'html', target: path.join(c.dir, 'x.html') }).then(() => 'exported', (e: Error) => e.message);
      assert.match(exported, /^Cannot export: .*cannot be shown/);
      closeAll(api);
      fs.rmSync(c.dir, { recursive: true, force: true });
    }
  });

  it('updates live during a run (total, ETA, trimmed live report), then shows the final report', async () => {
    const api = await reportApi();
    // a run too big to keep every task record in memory, in miniature: the live report keeps the
    // latest 2 (it drops the oldest half each time it holds twice that)
    process.env.PARALLEL_RUN_TASKS_IN_MEMORY = '2';
    let handle: RunHandle;
    try {
      handle = (await vscode.commands.executeCommand(Commands.runScript, { script: 'slow.py', files: 'data/*.txt', args: ['1.0'], workers: 2, openReport: false })) as RunHandle;
    } finally {
      delete process.env.PARALLEL_RUN_TASKS_IN_MEMORY;
    }
    assert.ok(handle && typeof handle.onEvent === 'function', 'runScript without wait returns the live handle');
    const p = await api.showLive(handle);
    const liveRenders: ReportRendered[] = [];
    const collect = (r: ReportRendered, q: PanelLike) => {
      if (q === p && r.live) liveRenders.push(r);
    };
    await api.waitForRendered((r, q) => (collect(r, q), q === p && r.live), 60_000);
    // once the live report has dropped its oldest records, the webview comes back (as a hidden one
    // does, with `ready`) and starts from a snapshot without them
    for (let i = 0; i < 400 && !handle.report().tasksOmitted && handle.report().status === 'running'; i++) await sleep(50);
    assert.ok((handle.report().tasksOmitted ?? 0) > 0, `the live report was trimmed (${handle.report().counts.done} done)`);
    await p.handleMessage({ type: 'ready' });
    const first = await api.waitForRendered((r, q) => (collect(r, q), q === p && r.live && (r.tasksOmitted ?? 0) > 0), 60_000);
    assert.ok(first.rendered.tasks < 12, `caught the run mid-way (${first.rendered.tasks} of 12 drawn)`);
    const final = await api.waitForRendered((r, q) => (collect(r, q), q === p && !r.live && r.tasks === 12), 90_000);
    assert.strictEqual(final.rendered.status, 'succeeded');
    assert.strictEqual(final.rendered.tasksOmitted, 0, 'the final report (report.json) has every task');
    assert.ok(p.postedTypes.includes('delta'), `live deltas were posted: ${p.postedTypes.join(',')}`);
    const tasksSeen = [...new Set(liveRenders.map((r) => r.tasks))];
    assert.ok(tasksSeen.length >= 2, `the panel grew while the run went on: ${tasksSeen.join(' → ')}`);
    // the live panel knows the total (counted before the engine listed the files) and shows an ETA
    const running = liveRenders.filter((r) => r.status === 'running');
    assert.ok(running.length > 0, 'renders while running');
    for (const r of running) assert.strictEqual(r.total, 12, `total shown while running: ${r.total}`);
    const withEta = running.filter((r) => r.tasks > 0 && r.tasks < 12);
    const etas = withEta.map((r) => r.etaMs);
    assert.ok(etas.length > 0 && etas.every((e) => typeof e === 'number' && e >= 0) && etas.some((e) => (e ?? 0) > 0), `ETA shown mid-run: ${etas.join(', ')}`);
    assert.strictEqual(final.rendered.etaMs, null, 'no ETA once finished');
  });

  it('restores after a reload through the serializer, from the state the webview saved', async () => {
    const api = await reportApi();
    const p = await api.show(failingDir);
    const { rendered } = await api.waitForRendered((r, q) => q === p && r.runId === failing.runId);
    const state = rendered.saved;
    assert.ok(state, 'webview saved state');
    p.panel.dispose();
    // what VS Code does after a window reload: a fresh panel of our view type + the saved state
    const revived = vscode.window.createWebviewPanel(WEBVIEW_REPORT, 'restored', vscode.ViewColumn.Active, {});
    await api.deserialize(revived, state);
    const back = await api.waitForRendered((r, q) => q.panel === revived && r.view === 'run');
    assert.strictEqual(back.rendered.runId, failing.runId);
    assert.strictEqual(back.rendered.tasks, 12);
    assert.ok(revived.webview.options.enableScripts, 'the serializer configured the webview');
    assert.deepStrictEqual(
      revived.webview.options.localResourceRoots?.map((u) => path.relative(path.resolve(__dirname, '../../..'), u.fsPath)).sort(),
      [path.join('dist', 'webview'), 'media'],
      'local resources limited to dist/webview and media/',
    );
  });

  it('shows an error, not a blank panel, when the restored run directory is gone', async () => {
    const api = await reportApi();
    const revived = vscode.window.createWebviewPanel(WEBVIEW_REPORT, 'restored', vscode.ViewColumn.Active, {});
    await api.deserialize(revived, { kind: 'run', runDir: path.join(os.tmpdir(), 'no-such-run-dir') });
    const r = await api.waitForRendered((_r, q) => q.panel === revived);
    assert.strictEqual(r.rendered.view, 'error');
  });

  it('compares two runs side by side', async () => {
    const api = await reportApi();
    const other = await run({ script: 'ok.py', files: 'data/*.txt', workers: 1, label: 'one worker' });
    const res = (await vscode.commands.executeCommand(Commands.compareRuns, failingDir, runDirOf(other))) as { title: string };
    assert.match(res.title, /Compare/);
    const { rendered } = await api.waitForRendered((r) => r.view === 'compare');
    assert.strictEqual(rendered.tasks, 24);
    assert.strictEqual(rendered.lanes, 3, '2 lanes + 1 lane');
    assert.deepStrictEqual(rendered.saved, { kind: 'compare', a: failingDir, b: runDirOf(other) });
  });

  it('exports a self-contained HTML file and the JSON', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-export-'));
    const html = (await vscode.commands.executeCommand(Commands.exportReport, { runDir: failingDir }, { format: 'html', target: path.join(dir, 'r.html') })) as { target: string; bytes: number };
    const text = fs.readFileSync(html.target, 'utf8');
    assert.match(text, /Content-Security-Policy" content="default-src 'none'/);
    assert.ok(text.includes(failing.runId));
    const json = (await vscode.commands.executeCommand(Commands.exportReport, { runDir: failingDir }, { format: 'json', target: path.join(dir, 'r.json') })) as { target: string };
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(json.target, 'utf8')), JSON.parse(fs.readFileSync(path.join(failingDir, 'report.json'), 'utf8')));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('renders a scaling sweep measured from real runs (speedup vs workers, Amdahl fit)', async () => {
    const api = await reportApi();
    const one = await run({ script: 'slow.py', files: 'data/*.txt', args: ['0.2'], workers: 1, label: 'sweep 1' });
    const two = await run({ script: 'slow.py', files: 'data/*.txt', args: ['0.2'], workers: 2, label: 'sweep 2' });
    const analysis = analyseSweep([
      { workers: 1, threads: 1, oversubscribed: false, samplesMs: [one.wallMs] },
      { workers: 2, threads: 1, oversubscribed: false, samplesMs: [two.wallMs] },
    ], 2);
    const dir = runDirOf(two);
    fs.writeFileSync(path.join(dir, 'sweep.json'), JSON.stringify(analysis));
    await api.show(dir);
    const { rendered } = await api.waitForRendered((r) => r.runId === two.runId && r.sweepPoints === 2);
    assert.strictEqual(rendered.tasks, 12);
  });
});
