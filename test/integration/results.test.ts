/**
 * The report panel's Results section in the real extension host: a real grid (mu × sigma, one Python
 * process per point, each printing a JSON object as its last line) whose rows, columns, failed row
 * and default plot the webview acknowledges; rows appearing while the run goes; a failed row's log
 * and results.csv opened from the panel; a run without results showing the one-line explanation; a
 * 3,030-point grid (in-process calls) drawn with a few dozen table rows in the DOM; values edited on
 * disk bounded before they reach the view; Compare Runs comparing the results of matching inputs.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { experimentInputs } from '../../extension/core/run/inputs';
import type { RunHandle, RunReport } from '../../extension/core/run/types';
import { Commands } from '../../extension/shared/ids';
import type { ReportRendered, ResultsRendered } from '../../extension/shared/protocol';
import { closeAll, type PanelLike, type ReportApi, reportApi } from './reportHelpers';
import { folder, runDirOf, services, ws } from './runHelpers';

/** A likelihood per grid point, printed as the last stdout line; mu=0.75, sigma=3 raises. `scale` changes B's values. */
function gridScript(scale = 1, sleep = 0): string {
  return `import json, sys, time
args = sys.argv[1:]
mu = float(args[args.index("--mu") + 1])
sigma = float(args[args.index("--sigma") + 1])
time.sleep(${sleep})
if mu == 0.75 and sigma == 3:
    raise ValueError("no fit at mu=0.75, sigma=3")
print("fitting", mu, sigma)
ll = -((mu - 0.5) ** 2) / sigma
if sigma == 2:
    ll *= ${scale}
print(json.dumps({"ll": round(ll, 6), "converged": True}))
`;
}

const created: string[] = [];

function script(name: string, text: string): string {
  const file = ws(name);
  fs.writeFileSync(file, text);
  created.push(file);
  return file;
}

async function startGrid(file: string, grid: Record<string, unknown>, label: string): Promise<RunHandle> {
  const s = await services();
  const handle = await s.runs.start({
    folder: folder(),
    script: file,
    args: ['--mu', '{mu}', '--sigma', '{sigma}'],
    files: { kind: 'list', files: [] },
    inputs: experimentInputs(undefined, grid),
    filesLabel: 'grid points',
    workers: 2,
    threads: 0,
    label,
    openReport: false,
    progress: 'none',
  });
  created.push(handle.outDir);
  return handle;
}

async function resultsOf(api: ReportApi, runId: string, pred: (r: ResultsRendered) => boolean = () => true): Promise<{ panel: PanelLike; results: ResultsRendered }> {
  const { panel, rendered } = await api.waitForRendered((r) => r.view === 'run' && r.runId === runId && !!r.results && pred(r.results), 60_000);
  return { panel, results: rendered.results! };
}


describe('report panel: results', function () {
  this.timeout(240_000);
  let gridRun: RunReport;
  let gridDir: string;

  before(async () => {
    const handle = await startGrid(script('results_grid_a.py', gridScript()), { mu: '0:1:0.25', sigma: [1, 2, 3] }, 'results-grid');
    gridRun = await handle.done;
    gridDir = handle.outDir;
  });
  afterEach(async () => {
    closeAll(await reportApi());
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
  after(() => {
    for (const f of created) fs.rmSync(f, { recursive: true, force: true });
  });

  it('a real grid: every row, the inputs as columns then the results, the failed row marked, ll plotted against mu per sigma', async () => {
    assert.strictEqual(gridRun.counts.succeeded, 14);
    assert.strictEqual(gridRun.counts.failed, 1);
    const api = await reportApi();
    await vscode.commands.executeCommand(Commands.showReport, { runDir: gridDir });
    const { results } = await resultsOf(api, gridRun.runId);
    assert.strictEqual(results.rows, 15);
    assert.strictEqual(results.shown, 15);
    assert.deepStrictEqual(results.columns, ['mu', 'sigma', 'status', 'seconds', 'max_rss_mb', 'll', 'converged']);
    assert.deepStrictEqual(results.inputs, ['mu', 'sigma']);
    assert.strictEqual(results.failed, 1);
    assert.strictEqual(results.explanation, undefined);
    assert.ok(results.domRows >= 5 && results.domRows <= 15, `table rows drawn: ${results.domRows}`);
    for (const row of results.firstRows) {
      const ll = -((Number(row[0]) - 0.5) ** 2) / Number(row[1]);
      if (row[2] === 'succeeded') assert.strictEqual(Number(row[5]), Math.round(ll * 1e6) / 1e6, `row ${row.join(',')}`);
      else assert.deepStrictEqual([row[0], row[1], row[2], row[5]], ['0.75', '3', 'failed', '']);
    }
    assert.deepStrictEqual(results.plot, { x: 'mu', y: 'll', group: 'sigma', series: ['sigma = 1', 'sigma = 2', 'sigma = 3'], points: 14, note: '1 row without a number in ll is not drawn.' });
  });

  it("opens a failed row's error log (inside logs/) and results.csv from the panel", async () => {
    const api = await reportApi();
    const p = await api.show(gridDir);
    await resultsOf(api, gridRun.runId);
    const opened: string[] = [];
    const sub = api.onDidOpenLog((f) => opened.push(f));
    try {
      await p.handleMessage({ type: 'openResultLog', inputs: ['0.75', '3'] });
      await p.handleMessage({ type: 'openResults' });
    } finally {
      sub.dispose();
    }
    const failed = gridRun.tasks.find((t) => t.status === 'failed')!;
    assert.deepStrictEqual(opened, [path.join(gridDir, failed.stderrLog), path.join(gridDir, 'results.csv')]);
    assert.ok(opened[0].startsWith(path.join(gridDir, 'logs') + path.sep));
    const log = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === opened[0]);
    assert.match(log?.getText() ?? '', /ValueError: no fit at mu=0\.75, sigma=3/);
    const csv = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === opened[1]);
    assert.match(csv?.getText() ?? '', /^mu,sigma,status,seconds,max_rss_mb,ll,converged\n/);
  });

  it('rows appear while the run goes, and the final table has every row', async () => {
    const api = await reportApi();
    const handle = await startGrid(script('results_grid_slow.py', gridScript(1, 0.4)), { mu: '0:1:0.25', sigma: [1, 2] }, 'results-live');
    await api.showLive(handle);
    const live = await api.waitForRendered((r) => r.runId === handle.runId && r.live && (r.results?.rows ?? 0) > 0, 120_000);
    assert.ok(live.rendered.results!.rows <= 10);
    const report = await handle.done;
    const { results } = await resultsOf(api, report.runId, (x) => x.rows === 10);
    assert.deepStrictEqual(results.columns, ['mu', 'sigma', 'status', 'seconds', 'max_rss_mb', 'll', 'converged']);
    assert.strictEqual(results.failed, 0);
    const last = api.panels().find((x) => x.lastRendered?.runId === report.runId)!.lastRendered!;
    assert.strictEqual(last.live, false);
  });

  it('a run whose tasks print no result shows one line saying how to report one', async () => {
    const api = await reportApi();
    const r = (await vscode.commands.executeCommand(Commands.runScript, { script: 'ok.py', files: 'data/a0[12].txt', workers: 2, wait: true, openReport: false, label: 'no-results' })) as RunReport;
    created.push(runDirOf(r));
    await api.show(runDirOf(r));
    const { results } = await resultsOf(api, r.runId);
    assert.match(results.explanation ?? '', /print a JSON object as the last line of stdout .* \$PARALLEL_RUN_RESULT/);
    assert.strictEqual(results.plot, undefined);
    assert.deepStrictEqual(results.firstRows, []);
  });

  it('3,030 grid points (in-process calls): every row in the model, a few dozen in the DOM', async () => {
    const api = await reportApi();
    const sigma = Array.from({ length: 30 }, (_, i) => i + 1);
    const report = (await vscode.commands.executeCommand(Commands.runGrid, { script: 'lik.py', func: 'loglike', grid: { mu: '0:1:0.01', sigma }, workers: 2, wait: true })) as RunReport;
    const dir = ws('.parallel-run', 'runs', report.runId);
    created.push(dir);
    assert.strictEqual(report.counts.succeeded, 3030);
    await api.show(dir);
    const { results } = await resultsOf(api, report.runId);
    assert.strictEqual(results.rows, 3030);
    assert.ok(results.domRows > 0 && results.domRows < 100, `only the rows in view are in the DOM: ${results.domRows}`);
    // sigma has 30 values: more than a plot's lines, so mu is drawn alone (each point a mean, said so)
    assert.strictEqual(results.plot?.x, 'mu');
    assert.strictEqual(results.plot?.y, 'll');
    assert.strictEqual(results.plot?.group, null);
    assert.strictEqual(results.plot?.points, 101);
    assert.match(results.plot?.note ?? '', /mean of up to 30 rows \(sigma varies within a point\)/);
  });

  it('values edited on disk are bounded before the view: out-of-range numbers become text, long text is cut', async () => {
    const api = await reportApi();
    const file = path.join(gridDir, 'results.ndjson');
    const before = fs.readFileSync(file, 'utf8');
    try {
      fs.appendFileSync(file, '{"mu":"9","sigma":"9","status":"succeeded","seconds":1,"max_rss_mb":1,"ll":1e999,"converged":"' + 'x'.repeat(100_000) + '"}\n');
      await api.show(gridDir);
      const { results } = await resultsOf(api, gridRun.runId, (x) => x.rows === 16);
      assert.match(results.notes.join(' '), /2 values were too long or out of range for a view/);
      assert.strictEqual(results.plot?.points, 14, 'the Infinity is not plotted');
    } finally {
      fs.writeFileSync(file, before);
    }
  });

  it('Compare Runs compares the results of matching inputs: matched, differing, the largest differences, unlike inputs said plainly', async () => {
    const api = await reportApi();
    // B: a smaller grid, ll scaled by 1.5 where sigma = 2
    const other = await startGrid(script('results_grid_b.py', gridScript(1.5)), { mu: '0:1:0.5', sigma: [1, 2] }, 'results-grid-b');
    const b = await other.done;
    await vscode.commands.executeCommand(Commands.compareRuns, gridDir, other.outDir);
    const { rendered } = await api.waitForRendered((r) => r.view === 'compare' && !!r.compare?.results, 60_000);
    const c = rendered.compare!.results!;
    assert.strictEqual(b.counts.succeeded, 6);
    assert.strictEqual(c.matched, 6);
    assert.strictEqual(c.onlyA, 9);
    assert.strictEqual(c.onlyB, 0);
    // at sigma = 2: mu = 0 and 1 differ (ll ≠ 0); mu = 0.5 has ll = 0 on both sides
    assert.deepStrictEqual(c.columns, [
      { column: 'status', matched: 6, differ: 0 },
      { column: 'll', matched: 6, differ: 2 },
      { column: 'converged', matched: 6, differ: 0 },
    ]);
    assert.match(c.headline, /^6 matching inputs; results differ in ll \(2 of 6\)\.$/);
  });
});
