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
import { readJournal, readReportJson, services, setSetting, waitFor, ws } from './runHelpers';

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
  statusBar(): { visible: boolean; text: string; tooltip: string; command: string | undefined };
  progress(): Array<{ runDir: string; title: string; message: string; percent: number }>;
}

type RunsTree = vscode.TreeDataProvider<{ runDir?: string; status?: string; contextValue?: string }>;

async function runsViewNode(runDir: string) {
  const tree = (await services()).runsTree as RunsTree;
  return ((await tree.getChildren()) ?? []).find((x) => x.runDir && path.resolve(x.runDir) === path.resolve(runDir));
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

  it('Re-run Failed Files (the command) on a Slurm run re-submits only the failed files', async () => {
    fs.writeFileSync(ws('fixed.flag'), '');
    try {
      // the same command as for a local run (palette / Runs view / notification); it routes Slurm runs to services.slurm
      const res = (await vscode.commands.executeCommand(Commands.rerunFailed, { runDir: failedRunDir, wait: true })) as SubmitResult;
      assert.notStrictEqual(res.runDir, failedRunDir);
      const r = res.report!;
      assert.strictEqual(r.status, 'succeeded', JSON.stringify(r.failures));
      assert.deepStrictEqual(r.tasks.map((t) => path.basename(t.file)).sort(), ['a03.txt', 'a07.txt']);
      assert.strictEqual(r.backend, 'slurm');
    } finally {
      fs.rmSync(ws('fixed.flag'), { force: true });
    }
  });

  it('live progress like a local run (notification, status bar, Runs view node running); Cancel Run (the command) → scancel marks it cancelled', async () => {
    const res = (await vscode.commands.executeCommand(Commands.submitSlurm, {
      script: 'slow.py', args: ['60'], files: 'data/a0*.txt', slurm: { ...FAST, targetTaskSeconds: 1 },
    })) as SubmitResult;
    assert.strictEqual(res.report, undefined, 'without wait it returns at submission');
    await waitFor('a running array task', () => slurm.active().some((h) => path.resolve(h.outDir) === path.resolve(res.runDir) && (h.arrayStates().RUNNING ?? 0) > 0), 60_000);
    // mid-run: the status bar item and the notification read like a local run's, plus the array states
    const bar = await waitFor('the status bar showing running array tasks', () => {
      const b = slurm.statusBar();
      return b.visible && / running$/.test(b.text) ? b : undefined;
    }, 30_000);
    assert.match(bar.text, /^\$\(loading~spin\) Slurm 0\/9( · .* left)? · \d+ running$/);
    assert.strictEqual(bar.command, Commands.showReport, 'click → the live report, as for a local run');
    assert.match(bar.tooltip, /^Parallel Run: slow\.py over data\/a0\*\.txt \(Slurm\)\n0\/9 files · .*array tasks: .*\d+ running/);
    assert.match(bar.tooltip, /Job array \d+\./);
    const note = await waitFor('the progress notification with array states', () => slurm.progress().find((p) => path.resolve(p.runDir) === path.resolve(res.runDir) && /running/.test(p.message)), 30_000);
    assert.strictEqual(note.title, 'Parallel Run: slow.py over data/a0*.txt (Slurm)');
    assert.match(note.message, /^0\/9 files · (.* · )?array tasks: (.*, )?\d+ running/);
    // the Runs view: a live node for this run, status running
    const node = await waitFor('a running node in the Runs view', async () => {
      const n = await runsViewNode(res.runDir);
      return n && n.status === 'running' ? n : undefined;
    }, 15_000);
    assert.match(String(node.contextValue), /^run\.running/);
    const report = (await vscode.commands.executeCommand(Commands.cancelRun, { runDir: res.runDir })) as RunReport | undefined;
    assert.ok(report);
    assert.strictEqual(report!.status, 'cancelled');
    assert.strictEqual(readReportJson(res.runDir).status, 'cancelled');
    const queued = cp.execFileSync('squeue', ['-h', '-j', res.jobIds.join(','), '-o', '%i'], { encoding: 'utf8' }).trim();
    assert.strictEqual(queued, '');
    await waitFor('the status bar item gone', () => !slurm.statusBar().visible, 10_000);
    assert.deepStrictEqual(slurm.progress(), []);
    await waitFor('the Runs view node cancelled', async () => (await runsViewNode(res.runDir))?.status === 'cancelled', 10_000);
  });

  it('settings reach the script: parallelRun.slurm.partition, memory and extraDirectives as #SBATCH lines', async () => {
    const keys = ['slurm.partition', 'slurm.memory', 'slurm.extraDirectives'];
    try {
      await setSetting('slurm.partition', 'astro-long');
      await setSetting('slurm.memory', '6G');
      await setSetting('slurm.extraDirectives', ['--qos=short', '#SBATCH --constraint=avx2']);
      const res = (await vscode.commands.executeCommand(Commands.submitSlurm, { script: 'ok.py', files: 'data/*.txt', exportOnly: true })) as SubmitResult;
      const script = fs.readFileSync(res.scriptPath, 'utf8');
      assert.match(script, /^#SBATCH --partition=astro-long$/m);
      assert.match(script, /^#SBATCH --mem=6G$/m);
      assert.match(script, /^#SBATCH --qos=short$/m);
      assert.match(script, /^#SBATCH --constraint=avx2$/m);
      assert.doesNotMatch(script, /--account=/, 'an empty setting writes no line');
      assert.match(script, /^#SBATCH --time=01:00:00$/m, 'the default parallelRun.slurm.timeLimit');
    } finally {
      for (const k of keys) await setSetting(k, undefined);
    }
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
