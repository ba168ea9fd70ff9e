/**
 * The measuring commands in the real extension host: Measure Speedup… (a real sweep over the fixture's
 * CPU-bound script, stored in run history and shown in the report panel), Apply Recommended Workers
 * and Threads (workspace settings), Inspect BLAS Threads (this machine's numpy: OpenBLAS) and Matrix
 * Demo (result equals the serial product).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { Commands, CONFIG_SECTION } from '../../extension/shared/ids';
import type { ReportRendered } from '../../extension/shared/protocol';
import { folder, services, waitFor } from './runHelpers';

interface SweepOut {
  dir: string;
  notice: string;
  result: { status: string; cores: { logical: number }; points: Array<{ workers: number; threads: number; speedup: number; oversubscribed: boolean }>; recommendation: { workers: number; threads: number } | null; sampleFiles: number };
}

interface RenderedWaiter {
  waitForRendered(pred: (r: ReportRendered) => boolean, timeoutMs?: number): Promise<{ rendered: ReportRendered; panel: { handleMessage(m: unknown): Promise<void> } }>;
}

describe('measure commands (sweep, BLAS inspector, matrix demo)', function () {
  this.timeout(300_000);
  let sweep: SweepOut;

  before(async () => {
    await services();
  });

  after(async () => {
    const cfg = vscode.workspace.getConfiguration(CONFIG_SECTION);
    await cfg.update('workers', undefined, vscode.ConfigurationTarget.Workspace);
    await cfg.update('threadsPerTask', undefined, vscode.ConfigurationTarget.Workspace);
  });

  it('measureSpeedup sweeps the CPU-bound script, stores sweep.json with the run history and shows it in the report panel', async () => {
    const api = await services();
    const panel = api.reportPanel as RenderedWaiter;
    const rendered = panel.waitForRendered((r) => r.sweepPoints > 0, 240_000);
    sweep = (await vscode.commands.executeCommand(Commands.measureSpeedup, {
      script: 'sweep/cpu_task.py', files: ['sweep/in/*.txt'], budgetSeconds: 10, apply: false,
    })) as SweepOut;
    assert.ok(sweep, 'the command returned the sweep');
    assert.strictEqual(sweep.result.status, 'completed');
    assert.strictEqual(sweep.result.cores.logical, os.availableParallelism());
    assert.ok(sweep.result.points.some((p) => p.oversubscribed), 'one oversubscribed configuration measured');
    assert.ok(sweep.result.recommendation, 'a recommendation');
    const runsDir = (api.runs as { runsDir(f: vscode.WorkspaceFolder): string }).runsDir(folder());
    assert.strictEqual(path.dirname(sweep.dir), runsDir, 'the sweep directory is in the runs directory');
    const onDisk = JSON.parse(fs.readFileSync(path.join(sweep.dir, 'sweep.json'), 'utf8'));
    assert.deepStrictEqual(onDisk.recommendation, sweep.result.recommendation);
    const report = JSON.parse(fs.readFileSync(path.join(sweep.dir, 'report.json'), 'utf8'));
    assert.ok(report.speedupMeasured && report.speedupMeasured.baselineWallMs > 0, 'report.json carries the measured speedup');
    const r = await rendered;
    assert.strictEqual(r.rendered.sweepPoints, sweep.result.points.length, 'the report panel shows every sweep point');
    // one figure: the notification's speedup is the one the report's card draws (no 1.21× vs 1.23×)
    const card = r.rendered.figures?.['Speedup (measured)'];
    assert.ok(card && (sweep.notice.includes(`(${card} faster`) || sweep.notice.includes(`(${card} slower`)), `card ${card} in the notification: ${sweep.notice}`);
    assert.strictEqual(report.speedupMeasured.value, (sweep.result.recommendation as unknown as { speedup: number }).speedup);
    assert.match(sweep.notice, /^Recommended: \d+ workers? × \d+ threads? \(/);
    // the header says whether the machine was busy, and so does the notification when it was
    assert.match(r.rendered.header?.setting ?? '', /machine: (quiet|busy)/);
    assert.strictEqual(/machine was busy/.test(sweep.notice), /machine: busy/.test(r.rendered.header!.setting));
    // the sweep report's Apply button: the host applies sweep.json's recommendation
    const rec = sweep.result.recommendation!;
    await vscode.workspace.getConfiguration(CONFIG_SECTION).update('workers', undefined, vscode.ConfigurationTarget.Workspace);
    await r.panel.handleMessage({ type: 'applyRecommendation' });
    await waitFor('the Apply button wrote the setting', () => vscode.workspace.getConfiguration(CONFIG_SECTION).inspect<number>('workers')!.workspaceValue === rec.workers || undefined);
    assert.strictEqual(vscode.workspace.getConfiguration(CONFIG_SECTION).inspect<number>('threadsPerTask')!.workspaceValue, rec.threads);
  });

  it('applyRecommendation writes workers and threadsPerTask to the workspace settings', async () => {
    const rec = sweep.result.recommendation!;
    const applied = await vscode.commands.executeCommand(Commands.applyRecommendation, { sweepDir: sweep.dir });
    assert.deepStrictEqual(applied, { workers: rec.workers, threads: rec.threads });
    const cfg = vscode.workspace.getConfiguration(CONFIG_SECTION);
    assert.strictEqual(cfg.inspect<number>('workers')!.workspaceValue, rec.workers);
    assert.strictEqual(cfg.inspect<number>('threadsPerTask')!.workspaceValue, rec.threads);
    // and explicit values (e.g. from a code lens) win
    await vscode.commands.executeCommand(Commands.applyRecommendation, { workers: 1, threads: 2 });
    assert.strictEqual(vscode.workspace.getConfiguration(CONFIG_SECTION).inspect<number>('threadsPerTask')!.workspaceValue, 2);
  });

  it('inspectBlas reports OpenBLAS for this machine\'s numpy and times 1 vs N threads in fresh processes', async () => {
    const out = (await vscode.commands.executeCommand(Commands.inspectBlas, { bench: 3 })) as {
      inspection: { current: { vendor: string; numpy: { version: string } | null }; defaultThreads: number | null };
      bench: { points: Array<{ threads: number; measuredThreads: number | null }> };
      markdown: string; file: string;
    };
    assert.strictEqual(out.inspection.current.vendor, 'OpenBLAS');
    assert.ok(out.inspection.current.numpy);
    assert.strictEqual(out.inspection.defaultThreads, os.availableParallelism());
    assert.deepStrictEqual(out.bench.points.map((p) => p.measuredThreads), out.bench.points.map((p) => p.threads), 'each process ran with its thread limit');
    assert.match(out.markdown, /\| BLAS vendor \| OpenBLAS/);
    assert.ok(fs.existsSync(out.file), 'the Markdown shown in the preview exists');
  });

  it('matrixDemo computes mat·matᵀ in row blocks on 1 and N workers, equal to the serial product', async () => {
    const out = (await vscode.commands.executeCommand(Commands.matrixDemo, {})) as {
      rows: number; columns: number; blocks: number; maxAbsDiff: number; timings: Array<{ workers: number; ms: number; speedup: number }>; markdown: string; notice: string;
    };
    assert.strictEqual(out.rows, 1000);
    assert.strictEqual(out.columns, 1500);
    assert.strictEqual(out.blocks, 10);
    assert.ok(out.maxAbsDiff < 1e-9, `max abs diff ${out.maxAbsDiff}`);
    assert.deepStrictEqual(out.timings.map((t) => t.workers), os.availableParallelism() > 1 ? [1, os.availableParallelism()] : [1]);
    assert.match(out.markdown, /matches the serial product/);
    // it says what it measures, and a slowdown is worded as one
    assert.match(out.notice, /^Matrix demo \(JavaScript ml-matrix on worker threads, not numpy\): /);
    const n = out.timings[out.timings.length - 1];
    assert.match(out.notice, n.speedup >= 1 ? /[\d.]+× faster/ : /were [\d.]+× slower/);
    assert.match(out.markdown, /What this measures: JavaScript \(ml-matrix\)/);
  });
});
