/**
 * parallelRun.submitSlurm in the real extension host against a REAL Slurm (scripts/slurm-start.sh,
 * started here; idempotent). The argument object skips the prompts and the preview.
 */
import * as assert from 'assert';
import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunReport } from '../../extension/core/run/types';
import { Commands, EXTENSION_ID } from '../../extension/shared/ids';
import { readJournal, readReportJson, services, waitFor, ws } from './runHelpers';

interface SubmitResult {
  runDir: string;
  scriptPath: string;
  jobIds: number[];
  report?: RunReport;
}

interface SlurmApiLike {
  rerunFailed(runDir: string, opts?: { wait?: boolean }): Promise<SubmitResult>;
  cancel(runDirOrRunId: string): Promise<RunReport | undefined>;
  isSlurmRun(runDir: string): boolean;
  active(): Array<{ outDir: string; arrayStates(): Record<string, number> }>;
}

const FAST = { targetTaskSeconds: 3, timeLimit: '00:10:00' };

describe('Submit to Slurm (real cluster)', function () {
  this.timeout(240_000);
  let slurm: SlurmApiLike;
  let failedRunDir: string;

  before(async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('SLURM_CI_')) delete env[k];
    const r = cp.spawnSync('bash', [path.join(ext.extensionPath, 'scripts', 'slurm-start.sh')], { env, encoding: 'utf8', timeout: 180_000 });
    assert.strictEqual(r.status, 0, `scripts/slurm-start.sh failed:\n${r.stderr}`);
    slurm = (await services()).slurm as SlurmApiLike;
    assert.ok(slurm && typeof slurm.rerunFailed === 'function', 'services.slurm is published');
  });

  it('submits the run as one job array, collects per-file results and shows it in the Runs view', async () => {
    const res = (await vscode.commands.executeCommand(Commands.submitSlurm, {
      script: 'fail_some.py', files: 'data/*.txt', wait: true, slurm: FAST,
    })) as SubmitResult;
    failedRunDir = res.runDir;
    assert.strictEqual(res.jobIds.length, 1);
    assert.ok(res.runDir.startsWith(ws('.parallel-run', 'runs')), res.runDir);
    const report = res.report!;
    assert.strictEqual(report.backend, 'slurm');
    assert.strictEqual(report.status, 'failed');
    assert.strictEqual(report.counts.succeeded, 10);
    assert.deepStrictEqual(report.failures.map((f) => [path.basename(f.file), f.exitCode]).sort(), [['a03.txt', 3], ['a07.txt', 3]]);
    assert.strictEqual(readJournal(res.runDir).length, 12);
    assert.strictEqual(readReportJson(res.runDir).backend, 'slurm');
    // ONE array, the 12 files packed into fewer, longer array tasks (how many depends on the task
    // times measured by earlier runs of fail_some.py in this workspace, else the stated guess)
    const script = fs.readFileSync(res.scriptPath, 'utf8');
    const array = /#SBATCH --array=(?:0-(\d+)|0)(?:%\d+)?\n/.exec(script);
    assert.ok(array, `the sbatch script has one --array line:\n${script}`);
    const arrayTasks = array[1] ? Number(array[1]) + 1 : 1;
    assert.ok(arrayTasks >= 1 && arrayTasks < 12, `12 files should be packed into fewer array tasks, got ${arrayTasks}`);
    assert.ok(slurm.isSlurmRun(res.runDir));
    // the Runs view lists it (a Slurm run is an ordinary run directory)
    const tree = (await services()).runsTree as vscode.TreeDataProvider<{ runDir?: string; status?: string }>;
    const nodes = await waitFor('the Slurm run in the Runs view', async () => {
      const n = ((await tree.getChildren()) ?? []).find((x) => x.runDir && path.resolve(x.runDir) === path.resolve(res.runDir));
      return n && n.status === 'failed' ? n : undefined;
    }, 10_000);
    assert.ok(nodes);
    // the report panel renders a Slurm run: timeline lanes = array tasks
    const panels = (await services()).reportPanel as {
      show(t: { runDir: string }): Promise<unknown>;
      waitForRendered(pred: (r: { runId?: string; lanes: number; failures: number; tasks: number }) => boolean, ms?: number): Promise<{ rendered: { lanes: number; failures: number; tasks: number } }>;
    };
    await panels.show({ runDir: res.runDir });
    const { rendered } = await panels.waitForRendered((r) => r.runId === report.runId, 30_000);
    assert.strictEqual(rendered.lanes, arrayTasks, `one timeline lane per array task (${arrayTasks})`);
    assert.strictEqual(rendered.failures, 2);
    assert.strictEqual(rendered.tasks, 12);
  });

  it('Re-run Failed Files on a Slurm run re-submits only the failed files', async () => {
    fs.writeFileSync(ws('fixed.flag'), '');
    try {
      const res = await slurm.rerunFailed(failedRunDir, { wait: true });
      assert.notStrictEqual(res.runDir, failedRunDir);
      const r = res.report!;
      assert.strictEqual(r.status, 'succeeded', JSON.stringify(r.failures));
      assert.deepStrictEqual(r.tasks.map((t) => path.basename(t.file)).sort(), ['a03.txt', 'a07.txt']);
      assert.strictEqual(r.backend, 'slurm');
    } finally {
      fs.rmSync(ws('fixed.flag'), { force: true });
    }
  });

  it('cancel → scancel marks the run cancelled', async () => {
    const res = (await vscode.commands.executeCommand(Commands.submitSlurm, {
      script: 'slow.py', args: ['60'], files: 'data/a0*.txt', slurm: { ...FAST, targetTaskSeconds: 1 },
    })) as SubmitResult;
    assert.strictEqual(res.report, undefined, 'without wait it returns at submission');
    await waitFor('a running array task', () => slurm.active().some((h) => path.resolve(h.outDir) === path.resolve(res.runDir) && (h.arrayStates().RUNNING ?? 0) > 0), 60_000);
    const report = await slurm.cancel(res.runDir);
    assert.ok(report);
    assert.strictEqual(report!.status, 'cancelled');
    assert.strictEqual(readReportJson(res.runDir).status, 'cancelled');
    const queued = cp.execFileSync('squeue', ['-h', '-j', res.jobIds.join(','), '-o', '%i'], { encoding: 'utf8' }).trim();
    assert.strictEqual(queued, '');
  });

  it('export-only writes the script, manifest and README and submits nothing', async () => {
    const res = (await vscode.commands.executeCommand(Commands.submitSlurm, {
      script: 'ok.py', files: 'data/*.txt', exportOnly: true, slurm: { ...FAST, partition: 'astro', account: 'proj42' },
    })) as SubmitResult;
    assert.deepStrictEqual(res.jobIds, []);
    const script = fs.readFileSync(res.scriptPath, 'utf8');
    assert.match(script, /#SBATCH --partition=astro\n/);
    assert.match(script, /#SBATCH --account=proj42\n/);
    const sdir = path.dirname(res.scriptPath);
    assert.strictEqual(fs.readFileSync(path.join(sdir, 'manifest.txt'), 'utf8').trim().split('\n').length, 12);
    assert.match(fs.readFileSync(path.join(sdir, 'README.txt'), 'utf8'), /sbatch submit\.sbatch/);
    assert.ok(!fs.existsSync(path.join(sdir, 'submission.json')));
  });

  it('bad input is one clear message, nothing submitted', async () => {
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand(Commands.submitSlurm, { script: 'nope.py', files: 'data/*.txt' })),
      /script ".*nope\.py" does not exist/,
    );
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand(Commands.submitSlurm, { script: 'ok.py', files: 'data/*.txt', slurm: { extraDirectives: ['--array=1-3'] } })),
      /--array, which Parallel Run writes itself/,
    );
  });
});
