/**
 * A cloned repository can ship run directories whose report.json / run.json name an "interpreter"
 * of its own (an executable script in the repository). In an untrusted window, reading them must start
 * nothing: Show Run Report (report.json, and a report rebuilt from the journal), a panel restored after
 * a reload, Compare, Export, the Runs view, Cancel Run on a crafted Slurm run, and the code lenses of a
 * Python file. The crafted interpreter writes a marker file when started: the marker stays absent and
 * no process appears below the extension host.
 *
 * (This file sorts before untrusted.test.js, whose first test expects exactly one recorded run: the
 * crafted runs are removed afterwards.)
 */
import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import * as vscode from 'vscode';
import type { RunDefinition, RunReport } from '../../../extension/core/run/types';
import { Commands, WEBVIEW_REPORT } from '../../../extension/shared/ids';
import type { ReportPanelState, ReportRendered } from '../../../extension/shared/protocol';
import { folder, services, sleep, ws } from '../runHelpers';
import { watchChildren } from './processWatch';

const execFileP = promisify(execFile);
const ROOT = process.env.PR_TEST_ROOT ?? path.resolve(__dirname, '..', '..', '..', '..');

interface PanelLike {
  panel: vscode.WebviewPanel;
  lastRendered: ReportRendered | undefined;
}
interface ReportApi {
  panels(): PanelLike[];
  waitForRendered(pred: (r: ReportRendered, p: PanelLike) => boolean, timeoutMs?: number): Promise<{ panel: PanelLike; rendered: ReportRendered }>;
  deserialize(panel: vscode.WebviewPanel, state: ReportPanelState | undefined): Promise<void>;
}

describe('untrusted workspace: crafted run directories start nothing', function () {
  this.timeout(120_000);
  const crafted: string[] = [];
  let evil: string;
  let marker: string;
  let fromReport: string;
  let fromJournal: string;
  let slurmRun: string;
  let api: ReportApi;

  function writeJson(file: string, value: unknown): void {
    fs.writeFileSync(file, JSON.stringify(value, null, 2));
  }

  /** Names `exe` as the interpreter everywhere a run directory records one. */
  function craft(runDir: string, exe: string, keepReport: boolean): void {
    const defFile = path.join(runDir, 'run.json');
    const def = JSON.parse(fs.readFileSync(defFile, 'utf8')) as RunDefinition;
    def.python = { executable: exe, version: '3.11.7' };
    if (def.command.kind === 'python') def.command.python = exe;
    writeJson(defFile, def);
    const reportFile = path.join(runDir, 'report.json');
    if (!keepReport) {
      fs.rmSync(reportFile);
      return;
    }
    const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as RunReport;
    report.python = { executable: exe, version: '3.11.7' }; // no "blas": the panel would probe it
    writeJson(reportFile, report);
    // report.json must not look older than the journal (it would be rebuilt instead)
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(reportFile, later, later);
  }

  function assertNothingRan(out: { children: string[] }, what: string): void {
    assert.deepStrictEqual(out.children, [], `${what}: no child process was started`);
    assert.ok(!fs.existsSync(marker), `${what}: the crafted interpreter ran (${fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : ''})`);
  }

  before(async function () {
    this.timeout(180_000);
    assert.strictEqual(vscode.workspace.isTrusted, false, 'this launch must open the folder UNTRUSTED (PR_TEST_TRUST=untrusted)');
    api = ((await services()) as unknown as { reportPanel: ReportApi }).reportPanel;
    marker = ws('crafted-interpreter-ran.txt');
    // the repository's own "python": records that it ran, then lingers so a process scan sees it
    evil = ws('tools', 'python3');
    fs.mkdirSync(path.dirname(evil), { recursive: true });
    fs.writeFileSync(evil, `#!/bin/sh\necho "started with: $*" >> '${marker}'\nsleep 2\n`, { mode: 0o755 });
    // (self-check) the trap works: started, it writes the marker
    await execFileP(evil, ['--probe']);
    assert.ok(fs.existsSync(marker), 'the crafted interpreter writes its marker when started');
    fs.rmSync(marker);

    // real run directories (made by the CLI, i.e. by the test, not the extension), then crafted
    const py = (await execFileP('python3', ['-c', 'import sys; print(sys.executable)'])).stdout.trim();
    const record = async (name: string): Promise<string> => {
      const out = ws('.parallel-run', 'runs', name);
      await execFileP(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'run', '--script', 'ok.py', '--files', 'data/a0[1-4].txt',
        '-j', '2', '--python', py, '--label', name, '--out', out, '--quiet'], { cwd: folder().uri.fsPath, timeout: 120_000 });
      crafted.push(out);
      return out;
    };
    fromReport = await record('crafted-report');
    fromJournal = await record('crafted-journal');
    slurmRun = await record('crafted-slurm');
    craft(fromReport, evil, true);
    craft(fromJournal, evil, false);
    craft(slurmRun, evil, true);
    // a "submitted Slurm run" naming job ids (cancel would scancel them)
    fs.mkdirSync(path.join(slurmRun, 'slurm'), { recursive: true });
    writeJson(path.join(slurmRun, 'slurm', 'submission.json'), { version: 1, submittedAt: Date.now(), jobs: [{ part: 0, jobId: 987654, offset: 0, count: 4 }] });
  });

  // each case on its own: a marker left by an earlier case must not fail the next one
  beforeEach(() => fs.rmSync(marker, { force: true }));

  after(async () => {
    for (const p of api?.panels() ?? []) p.panel.dispose();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const d of crafted) fs.rmSync(d, { recursive: true, force: true });
    fs.rmSync(marker, { force: true });
  });

  it('Show Run Report of a report.json naming the crafted interpreter: shown, nothing started', async () => {
    const out = await watchChildren(() => vscode.commands.executeCommand(Commands.showReport, { runDir: fromReport }), 3000);
    assert.strictEqual(out.error, undefined);
    const { rendered } = await api.waitForRendered((r, q) => r.view === 'run' && /crafted-report/.test(q.panel.title));
    assert.strictEqual(rendered.tasks, 4, 'the report is shown');
    assert.strictEqual(rendered.blas ?? undefined, undefined, 'no BLAS label: nothing was probed');
    assertNothingRan(out, 'Show Run Report');
  });

  it('Show Run Report of a run without report.json (rebuilt from the journal and run.json): nothing started', async () => {
    const out = await watchChildren(() => vscode.commands.executeCommand(Commands.showReport, { runDir: fromJournal }), 3000);
    assert.strictEqual(out.error, undefined);
    const { rendered } = await api.waitForRendered((r, q) => r.view === 'run' && /crafted-journal/.test(q.panel.title));
    assert.strictEqual(rendered.tasks, 4);
    assertNothingRan(out, 'rebuilt report');
  });

  it('a report panel restored after a reload (serializer): nothing started', async () => {
    for (const p of api.panels()) p.panel.dispose();
    const revived = vscode.window.createWebviewPanel(WEBVIEW_REPORT, 'restored', vscode.ViewColumn.Active, {});
    const out = await watchChildren(() => api.deserialize(revived, { kind: 'run', runDir: fromReport }), 3000);
    assert.strictEqual(out.error, undefined);
    await api.waitForRendered((r, q) => q.panel === revived && r.view === 'run');
    assertNothingRan(out, 'restore');
  });

  it('Compare Runs and Export Report (HTML and JSON): nothing started', async () => {
    const target = ws('exports', 'crafted.html');
    const out = await watchChildren(async () => {
      await vscode.commands.executeCommand(Commands.compareRuns, fromReport, fromJournal);
      await vscode.commands.executeCommand(Commands.exportReport, { runDir: fromReport }, { format: 'html', target });
      await vscode.commands.executeCommand(Commands.exportReport, { runDir: fromJournal }, { format: 'json', target: ws('exports', 'crafted.json') });
    }, 3000);
    assert.strictEqual(out.error, undefined);
    assert.ok(fs.existsSync(target), 'exported');
    await api.waitForRendered((r) => r.view === 'compare');
    assertNothingRan(out, 'Compare / Export');
    fs.rmSync(ws('exports'), { recursive: true, force: true });
  });

  it('the Runs view lists the crafted runs: nothing started', async () => {
    const tree = (await services()).runsTree;
    const out = await watchChildren(async () => {
      await vscode.commands.executeCommand(Commands.refreshRuns);
      const nodes = (await tree.getChildren(undefined)) as Array<{ runDir?: string }>;
      for (const n of nodes) await tree.getChildren(n);
      return nodes.map((n) => path.resolve(n.runDir ?? ''));
    }, 2000);
    assert.strictEqual(out.error, undefined);
    for (const d of crafted) assert.ok(out.value?.includes(path.resolve(d)), `${path.basename(d)} listed`);
    assertNothingRan(out, 'Runs view');
  });

  it('Cancel Run on a crafted "Slurm run" refuses (names trust) and runs no scancel', async () => {
    const out = await watchChildren(() => vscode.commands.executeCommand(Commands.cancelRun, { runDir: slurmRun }));
    assert.match(String(out.error), /not trusted/);
    assertNothingRan(out, 'Cancel Run');
    const sub = JSON.parse(fs.readFileSync(path.join(slurmRun, 'slurm', 'submission.json'), 'utf8')) as { cancelledAt?: number };
    assert.strictEqual(sub.cancelledAt, undefined, 'the submission is not marked cancelled either');
  });

  it('a Python file with a pool: no analyzer process (no lenses, no diagnostics), nothing started', async () => {
    const file = ws('pooled.py');
    fs.writeFileSync(file, 'from multiprocessing import Pool\n\nif __name__ == "__main__":\n    with Pool(4) as p:\n        print(p.map(abs, range(8)))\n');
    const out = await watchChildren(async () => {
      const doc = await vscode.workspace.openTextDocument(file);
      await vscode.window.showTextDocument(doc);
      const lenses = (await vscode.commands.executeCommand('vscode.executeCodeLensProvider', doc.uri)) as vscode.CodeLens[];
      await sleep(1000);
      return lenses.filter((l) => /parallel|thread|BLAS/i.test(l.command?.title ?? '')).length;
    }, 2000, 90_000); // opening an editor takes long on a loaded machine; nothing here waits for a click
    assert.strictEqual(out.error, undefined);
    assert.strictEqual(out.value, 0, 'no Parallel Run lenses (they need the analyzer process)');
    assertNothingRan(out, 'code lenses');
  });
});
