/**
 * The run flow over parameters in the real extension host, answered as a user answers it: parameters
 * instead of files (values typed per name), the script's arguments, a table of parameters from the
 * workspace, the number of tasks in the review, Enter. The run writes results.csv with one row per
 * tuple, and is the run the command line makes from the same options (same run.json inputs, same keys,
 * same results). Bad input is refused in the step that has it; more than a million tasks need a
 * confirmation. Then Re-run Failed on a run over tuples (the report's buttons, the palette): exactly
 * the failed tuples again, merged into the same run (test/fixtures/workspace/flaky_grid.py fails the
 * first time for two values of mu).
 */
import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunHandle, RunReport } from '../../extension/core/run/types';
import type { ReportRendered } from '../../extension/shared/protocol';
import { Commands } from '../../extension/shared/ids';
import { isPick, watchQuickInputs, type QuickInputDriver } from './quickInputs';
import { folder, readJournal, services, waitFor, ws } from './runHelpers';

const FLOW_DEFAULTS = 'parallelRun.flowDefaults';

/** A likelihood over mu (typed), sigma and scale (a table). */
const LIK = `import json, sys
args = sys.argv[1:]
def get(flag):
    return float(args[args.index(flag) + 1])
mu, sigma, scale = get("--mu"), get("--sigma"), get("--scale")
print(json.dumps({"ll": round(-((mu - 0.5) ** 2) / sigma * scale, 6)}))
`;
const TABLE = 'sigma,scale\n1,10\n2,20\n';

interface ReportApiLike {
  show(runDir: string): Promise<{ panel: vscode.WebviewPanel; handleMessage(m: unknown): Promise<void> }>;
  waitForRendered(pred: (r: ReportRendered) => boolean): Promise<{ rendered: ReportRendered }>;
}

function runCli(args: string[], cwd: string, cli: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 180_000, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0, stdout, stderr });
    });
  });
}

/** results.csv without the measures that differ between two runs of the same tasks (seconds, memory). */
function resultRows(runDir: string): string[] {
  const [head, ...rows] = fs.readFileSync(path.join(runDir, 'results.csv'), 'utf8').trim().split('\n');
  const cols = head.split(',');
  const keep = cols.map((c, i) => (c === 'seconds' || c === 'max_rss_mb' ? -1 : i)).filter((i) => i >= 0);
  return [keep.map((i) => cols[i]).join(','), ...rows.map((r) => keep.map((i) => r.split(',')[i]).join(',')).sort()];
}

/** The review's problem, told in full over the short lines under "Cannot start yet". */
function problem(review: vscode.QuickPick<vscode.QuickPickItem>): string {
  return review.items.filter((i) => /^\$\((error|blank)\) /.test(i.label)).map((i) => i.label.replace(/^\$\(\w+\) /, '')).join(' ');
}

function finishedRun(outDir: string): Promise<RunReport> {
  return services().then((api) => {
    const runs = api.runs as unknown as { onDidChange: vscode.Event<{ kind: string; outDir: string; report?: RunReport }> };
    return new Promise<RunReport>((resolve) => {
      const sub = runs.onDidChange((e) => {
        if (e.kind === 'finished' && path.resolve(e.outDir) === path.resolve(outDir) && e.report) {
          sub.dispose();
          resolve(e.report);
        }
      });
    });
  });
}

describe('the run flow over parameters, and re-running failed tuples', function () {
  this.timeout(300_000);
  let state: vscode.Memento;
  let saved: unknown;
  let quick: QuickInputDriver | undefined;
  const made: string[] = [];

  before(async () => {
    const api = await services();
    state = (api.context as vscode.ExtensionContext).workspaceState;
    saved = state.get(FLOW_DEFAULTS);
    fs.writeFileSync(ws('flowlik.py'), LIK);
    fs.writeFileSync(ws('flow_table.csv'), TABLE);
    fs.writeFileSync(ws('flow_ragged.csv'), 'sigma,scale\n1,10\n2\n');
  });

  afterEach(async () => {
    quick?.dispose();
    quick = undefined;
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
  });

  after(async () => {
    await state.update(FLOW_DEFAULTS, saved);
    for (const f of ['flowlik.py', 'flow_table.csv', 'flow_ragged.csv', 'flaky_tried', ...made]) fs.rmSync(path.isAbsolute(f) ? f : ws(f), { recursive: true, force: true });
  });

  it('parameters typed per name, arguments and a table: the review counts the tasks; the run writes results.csv as the CLI run does', async () => {
    await state.update(FLOW_DEFAULTS, {});
    quick = watchQuickInputs();
    const flow = Promise.resolve(vscode.commands.executeCommand(Commands.runScript, vscode.Uri.file(ws('flowlik.py'))));

    // files, or parameters instead
    const files = await quick.nextPick(/input files/);
    const fileLabels = await quick.labels(files);
    assert.ok(fileLabels.includes('$(symbol-variable) Parameters instead of files…'), fileLabels.join(' | '));
    assert.ok(fileLabels.includes('$(table) A table of parameters instead of files…'), fileLabels.join(' | '));
    await quick.pick(files, /^\$\(symbol-variable\) Parameters instead of files/);

    // NAME=VALUES, parsed as --grid: a bad range is refused in the box itself, naming the fix
    const param = await quick.nextBox(/add a parameter/);
    await quick.type(param, 'mu=1:0:0.5');
    await waitFor('the range refused', () => typeof param.validationMessage === 'object' && /step goes away from STOP/.test(param.validationMessage.message));
    assert.strictEqual(quick.created.length, 2, 'Enter refused: still the same box');
    await quick.type(param, 'mu=0:1:0.5');

    let review = await quick.nextPick(/ready/);
    let labels = await quick.labels(review);
    assert.strictEqual(labels[0], '$(play) Start run');
    assert.match(review.items[0].description ?? '', /^3 tasks · /);
    assert.ok(labels.includes('$(files) Files: none'), labels.join(' | '));
    const mu = review.items.find((i) => i.label === '$(symbol-variable) mu = 0:1:0.5');
    assert.strictEqual(mu?.description, '3 values: 0, 0.5, 1');
    await quick.pick(review, /^\$\(terminal\) Arguments: none/);

    // the arguments: an unclosed quote is refused with the fix; names not given yet are announced
    const argsBox = await quick.nextBox(/arguments of flowlik\.py/);
    await quick.type(argsBox, '--mu {mu} --title "a b');
    await waitFor('the open quote refused', () => typeof argsBox.validationMessage === 'object' && /close the quote/.test(argsBox.validationMessage.message));
    await quick.type(argsBox, '--mu {mu} --sigma {sigma} --scale {scale}');

    review = await quick.nextPick(/ready/);
    labels = await quick.labels(review);
    assert.strictEqual(labels[0], '$(circle-slash) Cannot start yet');
    assert.match(problem(review), /^The arguments use \{sigma\} and \{scale\}, which have no values yet: pick their lines below to type them, add a table with those columns, or fix the arguments\.$/);
    assert.ok(labels.includes('$(warning) {sigma} has no values') && labels.includes('$(warning) {scale} has no values'), labels.join(' | '));
    // a table whose third line is short: the review names the line
    await quick.pick(review, /^\$\(table\) Add a table of parameters/);
    let table = await quick.nextPick(/table of parameters/);
    await quick.pick(table, /flow_ragged\.csv$/);
    review = await quick.nextPick(/ready/);
    const ragged = review.items.find((i) => i.label === '$(table) Table: flow_ragged.csv');
    assert.strictEqual(ragged?.description, '$(error) not read: see above');
    assert.strictEqual(review.items[0].label, '$(circle-slash) Cannot start yet');
    assert.match(problem(review), /flow_ragged\.csv \(input source 2\), line 3: 1 column where the header has 2/);
    await quick.pick(review, /^\$\(table\) Table: flow_ragged\.csv/);
    table = await quick.nextPick(/table of parameters/);
    await quick.pick(table, /flow_table\.csv$/);

    review = await quick.nextPick(/ready/);
    labels = await quick.labels(review);
    assert.strictEqual(labels[0], '$(play) Start run');
    assert.match(review.items[0].description ?? '', /^6 tasks · /);
    assert.strictEqual(review.items[0].detail, 'First task: flowlik.py --mu 0 --sigma 1 --scale 10');
    assert.strictEqual(review.items.find((i) => i.label === '$(table) Table: flow_table.csv')?.description, '2 rows × sigma, scale');
    assert.ok(!labels.some((l) => l.includes('has no values')), labels.join(' | '));
    assert.ok(labels.includes('$(terminal) Arguments: --mu {mu} --sigma {sigma} --scale {scale}'), labels.join(' | '));
    await quick.pick(review, /^\$\(play\) Start run/);

    const handle = (await flow) as RunHandle;
    assert.ok(handle && typeof handle.outDir === 'string', 'the flow started a run');
    made.push(handle.outDir);
    const report = await handle.done;
    assert.deepStrictEqual([report.status, report.counts.total, report.counts.succeeded], ['succeeded', 6, 6]);
    assert.strictEqual(report.label, 'flowlik.py over mu × flow_table.csv');
    const rows = resultRows(handle.outDir);
    assert.deepStrictEqual(rows, [
      'mu,sigma,scale,status,ll',
      '0,1,10,succeeded,-2.5', '0,2,20,succeeded,-2.5', '0.5,1,10,succeeded,0', '0.5,2,20,succeeded,0', '1,1,10,succeeded,-2.5', '1,2,20,succeeded,-2.5',
    ]);

    // the same options on the command line make the same run: inputs, names, arguments, keys, results
    const api = await services();
    const py = (await (api.python as { resolve(f: vscode.WorkspaceFolder): Promise<{ executable: string }> }).resolve(folder())).executable;
    const cliOut = ws('.parallel-run', 'runs', 'flow-cli-equivalent');
    made.push(cliOut);
    const cli = await runCli(
      ['run', '--script', 'flowlik.py', '--python', py, '-j', '2', '--grid', 'mu=0:1:0.5', '--header', ':', '--colsep', ',', '--out', cliOut, '--quiet',
        '--', '--mu', '{mu}', '--sigma', '{sigma}', '--scale', '{scale}', '::::', 'flow_table.csv'],
      ws(), path.join(api.distDir as string, 'cli.js'),
    );
    assert.strictEqual(cli.code, 0, cli.stderr);
    const defOf = (d: string) => JSON.parse(fs.readFileSync(path.join(d, 'run.json'), 'utf8'));
    const [mine, theirs] = [defOf(handle.outDir), defOf(cliOut)];
    assert.deepStrictEqual(mine.inputs, theirs.inputs);
    assert.deepStrictEqual(mine.inputNames, theirs.inputNames);
    assert.deepStrictEqual(mine.command.args, theirs.command.args);
    const keys = (d: string) => readJournal(d).map((l) => JSON.stringify((l as unknown as { inputs: string[] }).inputs)).sort();
    assert.deepStrictEqual(keys(handle.outDir), keys(cliOut));
    assert.deepStrictEqual(resultRows(cliOut), rows);
  });

  it('remembers the script\'s parameters; more than a million tasks need a confirmation; closing starts nothing', async () => {
    // the previous test's choices come back for this script (no files question: the parameters were the inputs)
    quick = watchQuickInputs();
    const runsDir = ws('.parallel-run', 'runs');
    const count = () => (fs.existsSync(runsDir) ? fs.readdirSync(runsDir).length : 0);
    const runsBefore = count();
    const flow = Promise.resolve(vscode.commands.executeCommand(Commands.runScript, vscode.Uri.file(ws('flowlik.py'))));
    let review = await quick.nextPick(/ready/);
    assert.match(review.items[0].description ?? '', /^6 tasks · /);
    await quick.pick(review, /^\$\(symbol-variable\) mu = 0:1:0\.5/);
    const box = await quick.nextBox(/values of mu/);
    assert.strictEqual(box.value, '0:1:0.5');
    await quick.type(box, '1:1000000');
    review = await quick.nextPick(/ready/);
    assert.match(review.items[0].description ?? '', /^\$\(warning\) 2,000,000 tasks · /);
    await quick.pick(review, /^\$\(play\) Start run/);
    const confirm = await quick.nextPick(/2,000,000 tasks — start them all\?/);
    assert.match(confirm.placeholder ?? '', /More than 1,000,000 tasks need a confirmation/);
    await quick.pick(confirm, /Back to the review/);
    review = await quick.nextPick(/ready/);
    review.hide(); // Escape
    assert.strictEqual(await flow, undefined, 'closed: nothing started');
    assert.strictEqual(count(), runsBefore, 'no run directory');
    assert.ok(!quick.created.some((q) => isPick(q) && /input files/.test(q.title ?? '')), 'no files question');
  });

  it('the confirmation the flow asks above a million tasks is what lets the run start (the CLI\'s --yes)', async () => {
    const api = await services();
    const runs = api.runs as unknown as { start(req: unknown): Promise<RunHandle> };
    const req = {
      folder: folder(), script: ws('flowlik.py'), args: ['--mu', '{mu}', '--sigma', '{sigma}', '--scale', '1'], files: { kind: 'list', files: [] },
      // 1,001 × 1,000 = 1,001,000 tasks from two short axes
      inputs: { sources: [{ kind: 'grid', name: 'mu', values: Array.from({ length: 1001 }, (_, i) => String(i)) }, { kind: 'grid', name: 'sigma', values: Array.from({ length: 1000 }, (_, i) => String(i + 1)) }] },
      filesLabel: 'mu × sigma', workers: 1, threads: 0, openReport: false, progress: 'none',
    };
    await assert.rejects(runs.start(req), /These inputs make 1,001,000 tasks \(more than 1,000,000\)\. Check the grid, or pass --yes/);
    const handle = await runs.start({ ...req, yes: true });
    made.push(handle.outDir);
    handle.cancel();
    const report = await handle.done;
    assert.strictEqual(report.status, 'cancelled');
    assert.strictEqual(report.counts.total === null || report.counts.total === 1_001_000, true, `total ${report.counts.total}`);
  });

  it('a long list of tuples is remembered by its run.json, not copied into the workspace state; Resume reads it from there', async () => {
    const api = await services();
    const runs = api.runs as unknown as { start(req: unknown): Promise<RunHandle>; requestFor(dir: string): Record<string, unknown> | undefined };
    const values = Array.from({ length: 30_000 }, (_, i) => `value-${String(i).padStart(6, '0')}`);
    const handle = await runs.start({
      folder: folder(), script: ws('flowlik.py'), args: ['--mu', '1', '--sigma', '1', '--scale', '1', '--tag', '{name}'], files: { kind: 'list', files: [] },
      inputs: { sources: [{ kind: 'grid', name: 'name', values }] }, filesLabel: 'name', workers: 1, threads: 0, openReport: false, progress: 'none',
    });
    made.push(handle.outDir);
    handle.cancel();
    await handle.done;
    const stored = runs.requestFor(handle.outDir)!;
    assert.strictEqual(stored.inputs, undefined, 'not in the workspace state');
    assert.strictEqual(stored.inputsInRunJson, true);
    const resumed = (await vscode.commands.executeCommand(Commands.resumeLastRun, { runDir: handle.outDir, openReport: false })) as RunHandle;
    resumed.cancel();
    await resumed.done;
    const def = JSON.parse(fs.readFileSync(path.join(handle.outDir, 'run.json'), 'utf8'));
    assert.strictEqual(def.sessions.length, 2, 'resumed in the same run');
    assert.strictEqual(def.inputs.sources[0].values.length, 30_000, 'over the same 30,000 tuples');
  });

  it('Re-run failed on a run over tuples: a group from the report, then the rest from the palette, merged into the same run', async () => {
    // a run over tuples started on the command line: VS Code re-runs it from its run.json
    const api = await services();
    const py = (await (api.python as { resolve(f: vscode.WorkspaceFolder): Promise<{ executable: string }> }).resolve(folder())).executable;
    const runDir = ws('.parallel-run', 'runs', 'flow-flaky-grid');
    made.push(runDir);
    const cli = await runCli(
      ['run', '--script', 'flaky_grid.py', '--python', py, '-j', '2', '--grid', 'mu=0,0.5,1', '--grid', 'sigma=1,2', '--no-stop-early', '--out', runDir, '--quiet', '--', '--mu', '{mu}', '--sigma', '{sigma}'],
      ws(), path.join(api.distDir as string, 'cli.js'),
    );
    assert.notStrictEqual(cli.code, 0, 'four tasks failed');
    const firstSession = readJournal(runDir);
    assert.strictEqual(firstSession.filter((l) => l.status === 'failed').length, 4);

    // the report's per-group button: the ValueError tuples only
    const report = api.reportPanel as ReportApiLike;
    const panel = await report.show(runDir);
    const { rendered } = await report.waitForRendered((r) => (r.failureGroups ?? []).length === 2);
    const onDisk = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8')) as RunReport;
    const valueGroup = onDisk.failureGroups!.find((g) => g.title.startsWith('ValueError'))!;
    assert.ok(rendered.failureGroups!.some((t) => t.startsWith('ValueError')), JSON.stringify(rendered.failureGroups));
    let finished = finishedRun(runDir);
    await panel.handleMessage({ type: 'failureGroup', key: valueGroup.key, action: 'rerun' });
    const merged = await finished;
    assert.deepStrictEqual([merged.runId, merged.counts.total, merged.counts.succeeded, merged.counts.skipped, merged.counts.failed], [onDisk.runId, 6, 2, 2, 2]);
    const second = readJournal(runDir).slice(firstSession.length);
    assert.deepStrictEqual(second.map((l) => l.file).sort(), ['mu=0.5 sigma=1', 'mu=0.5 sigma=2'], 'exactly the group\'s tuples ran again');
    panel.panel.dispose();

    // the palette's Re-run Failed Files: the KeyError tuples, in the same run
    const last = (await vscode.commands.executeCommand(Commands.rerunFailed, { runDir, wait: true, openReport: false })) as RunReport;
    assert.deepStrictEqual([last.runId, last.status, last.counts.total, last.counts.succeeded, last.counts.skipped], [onDisk.runId, 'succeeded', 6, 2, 4]);
    const third = readJournal(runDir).slice(firstSession.length + second.length);
    assert.deepStrictEqual(third.map((l) => l.file).sort(), ['mu=1 sigma=1', 'mu=1 sigma=2']);

    // each tuple succeeded exactly once; results.csv has one row per tuple, all succeeded
    const ok = readJournal(runDir).filter((l) => l.status === 'succeeded').map((l) => l.file);
    assert.strictEqual(ok.length, 6);
    assert.strictEqual(new Set(ok).size, 6);
    assert.deepStrictEqual(resultRows(runDir), [
      'mu,sigma,status,v', '0,1,succeeded,0', '0,2,succeeded,0', '0.5,1,succeeded,0.5', '0.5,2,succeeded,1', '1,1,succeeded,1', '1,2,succeeded,2',
    ]);
    // nothing is left to re-run
    assert.strictEqual(await vscode.commands.executeCommand(Commands.rerunFailed, { runDir }), undefined);
    // run.json still describes the whole run for a later Resume (VS Code drops the re-run's tuples)
    const def = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8'));
    assert.deepStrictEqual(def.inputs.sources.map((s: { name: string }) => s.name), ['mu', 'sigma']);
    fs.rmSync(ws('flaky_tried'), { recursive: true, force: true });
  });
});
