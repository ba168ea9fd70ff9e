/**
 * Numbers a user can believe, in the real extension host: the end-of-run summary (the notification's
 * text, also logged) carries exactly the figures the report panel draws; the header states mode,
 * workers × threads and the machine's load; Compare Runs of unlike runs (different file counts,
 * warm vs cold, different settings) names every difference and claims no "faster".
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunReport } from '../../extension/core/run/types';
import { Commands } from '../../extension/shared/ids';
import type { ReportRendered } from '../../extension/shared/protocol';
import { runDirOf, services, waitFor } from './runHelpers';

interface ReportApi {
  waitForRendered(pred: (r: ReportRendered) => boolean, timeoutMs?: number): Promise<{ rendered: ReportRendered }>;
  panels(): Array<{ panel: vscode.WebviewPanel }>;
}

async function reportApi(): Promise<ReportApi> {
  return ((await services()) as unknown as { reportPanel: ReportApi }).reportPanel;
}

async function run(args: Record<string, unknown>): Promise<RunReport> {
  return (await vscode.commands.executeCommand(Commands.runScript, { wait: true, openReport: false, ...args })) as RunReport;
}

describe('numbers: one source, like with like', function () {
  this.timeout(240_000);
  let warm12: RunReport;
  let cold9: RunReport;

  before(async () => {
    warm12 = await run({ script: 'ok.py', files: 'data/*.txt', workers: 2, threads: 1, warm: true, label: 'numbers warm 12' });
    cold9 = await run({ script: 'ok.py', files: 'data/a0*.txt', workers: 1, threads: 1, warm: false, label: 'numbers cold 9' });
  });
  afterEach(async () => {
    for (const p of (await reportApi()).panels()) p.panel.dispose();
  });

  it('the end-of-run summary and the report panel show the same figures; the header states mode, setting and load', async () => {
    const api = await services();
    const logFile = path.join((api.context as vscode.ExtensionContext).logUri.fsPath, 'Parallel Run.log');
    const summary = await waitFor('the end-of-run summary in the log', () => {
      if (!fs.existsSync(logFile)) return undefined;
      return fs.readFileSync(logFile, 'utf8').split('\n').find((l) => l.includes(`[${warm12.runId}]`) && / succeeded: \d+ succeeded/.test(l));
    });
    await vscode.commands.executeCommand(Commands.showReport, { runDir: runDirOf(warm12) });
    const { rendered } = await (await reportApi()).waitForRendered((r) => r.runId === warm12.runId && r.view === 'run');
    const cards = rendered.figures ?? {};
    const drawn = [cards['Speedup (estimate)'], cards['Efficiency'], cards['Throughput']];
    assert.ok(drawn.every((v) => v && v !== '—'), `the cards drew every figure: ${JSON.stringify(cards)}`);
    for (const v of drawn) assert.ok(summary.includes(v!), `"${v}" (report card) appears in the summary: ${summary}`);
    assert.match(rendered.header?.setting ?? '', /^mode: warm \(forked from a worker that imported once\) · 2 workers × 1 thread on \d+ logical cores? · machine: (quiet|busy)/);
    // the machine's load was sampled during the run and the header says which
    assert.ok(warm12.load && warm12.load.samples > 0, JSON.stringify(warm12.load));
    assert.strictEqual(/machine: busy/.test(rendered.header!.setting), warm12.load!.busy);
    assert.strictEqual(!!rendered.header!.busy, warm12.load!.busy, 'a busy machine gets the warning under the header');
  });

  it('Compare Runs of unlike runs (12 warm files on 2 workers vs 9 cold on 1): no "faster", every difference named', async () => {
    await vscode.commands.executeCommand(Commands.compareRuns, runDirOf(warm12), runDirOf(cold9));
    const { rendered } = await (await reportApi()).waitForRendered((r) => r.view === 'compare');
    const c = rendered.compare!;
    assert.strictEqual(c.sameInputs, false);
    assert.doesNotMatch(c.headline, /faster|slower/, c.headline);
    assert.match(c.headline, /^Different inputs, so the wall times are not compared: per file, A took .+ \(median; p90 .+\) and B .+/);
    assert.ok(c.differences.includes('Different inputs: A ran 12 files, B ran 9 (9 in both).'), c.differences.join('\n'));
    assert.ok(c.differences.some((d) => /^Different modes: A warm .*, B cold /.test(d)), c.differences.join('\n'));
    assert.ok(c.differences.includes('Different settings: A 2 workers × 1 thread, B 1 worker × 1 thread.'), c.differences.join('\n'));
    // the same inputs and settings compare like with like: a plain wall-time verdict is allowed
    const again = await run({ script: 'ok.py', files: 'data/a0*.txt', workers: 1, threads: 1, warm: false, label: 'numbers cold 9 again' });
    await vscode.commands.executeCommand(Commands.compareRuns, runDirOf(cold9), runDirOf(again));
    const same = await (await reportApi()).waitForRendered((r) => r.view === 'compare' && r.compare?.sameInputs === true);
    assert.match(same.rendered.compare!.headline, /^Same 9 inputs: B was [\d.]+× (faster|slower) than A in wall time\.$/);
  });
});
