/**
 * Submit to Slurm in the real workbench (packaged .vsix) against the REAL loopback test cluster
 * (scripts/slurm-start.sh, idempotent; the cluster is system-wide, so this code-server reaches it):
 * palette → "Parallel Run: Submit to Slurm…" → pick the script → accept the glob → set the partition
 * → preview: the sbatch script opens in an editor tab (#SBATCH --partition=…) and a modal asks
 * "Submit N files as M array tasks" → Submit → the progress notification and the status bar item while
 * the array runs (same wording as a local run) → the finished run in the Runs view.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { E2EScenario } from './harness';
import { expectRunInRunsView, onlyRunDir, ROOT } from './harness';

const FILES = 4;

function startCluster(): void {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SLURM_CI_')) delete env[k];
  const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'slurm-start.sh')], { env, encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`scripts/slurm-start.sh failed:\n${r.stderr}`);
}

export const scenarios: E2EScenario[] = [
  {
    name: 'palette → Submit to Slurm → script, glob, partition → preview + confirm → progress → Runs view',
    async run(ctx) {
      const { page } = ctx;
      startCluster();
      // a script slow enough (3 s per file) to see the array running; 4 small input files
      fs.writeFileSync(path.join(ctx.workspace, 'sleepy.py'), 'import sys, time\ntime.sleep(3)\nprint(open(sys.argv[1]).read().strip())\n');
      fs.mkdirSync(path.join(ctx.workspace, 'data'), { recursive: true });
      for (let i = 1; i <= FILES; i++) fs.writeFileSync(path.join(ctx.workspace, 'data', `f${i}.txt`), `file ${i}\n`);

      await ctx.runCommand('Parallel Run: Submit to Slurm');
      const input = page.locator('.quick-input-widget input');
      const title = page.locator('.quick-input-widget .quick-input-title');
      const row = (text: string | RegExp) => page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
      // 1/3 the script
      await title.filter({ hasText: 'Submit to Slurm (1/3)' }).waitFor({ timeout: 30_000 });
      await input.fill('sleepy');
      await row('sleepy.py').waitFor({ timeout: 15_000 });
      await page.keyboard.press('Enter');
      // 2/3 the glob: accept the proposed one
      await title.filter({ hasText: 'Submit to Slurm (2/3)' }).waitFor({ timeout: 15_000 });
      const glob = await input.inputValue();
      if (glob !== 'data/**/*') throw new Error(`unexpected proposed glob "${glob}"`);
      await page.keyboard.press('Enter');
      // 3/3 options (from the parallelRun.slurm.* settings): set the partition
      await title.filter({ hasText: 'Submit to Slurm (3/3)' }).waitFor({ timeout: 15_000 });
      await row('Partition…').waitFor({ timeout: 15_000 });
      await ctx.screenshot('slurm-1-options');
      await input.fill('Partition');
      await row('Partition…').waitFor({ timeout: 15_000 });
      await page.keyboard.press('Enter');
      await title.filter({ hasText: 'Partition' }).waitFor({ timeout: 15_000 });
      await input.fill('debug');
      await page.keyboard.press('Enter');
      await title.filter({ hasText: 'Submit to Slurm (3/3)' }).waitFor({ timeout: 15_000 });
      await row(/partition debug/).waitFor({ timeout: 15_000 });
      await input.fill('Preview');
      await row('Preview the sbatch script and submit').waitFor({ timeout: 15_000 });
      await page.keyboard.press('Enter');

      // the preview: the generated script in an editor tab, and the modal confirmation
      await page.locator('.tabs-container .tab', { hasText: 'submit.sbatch' }).first().waitFor({ timeout: 60_000 });
      // (the editor renders spaces as non-breaking spaces: match any character there)
      await page.locator('.monaco-editor .view-lines', { hasText: /#SBATCH.--partition=debug/ }).first().waitFor({ timeout: 30_000 });
      const dialog = page.locator('.monaco-dialog-box');
      // default packing (≥ 30 s per array task at the stated 1 s/file guess): the 4 files in one array task
      await dialog.filter({ hasText: `Submit ${FILES} files as 1 array task to Slurm?` }).waitFor({ timeout: 30_000 });
      await dialog.filter({ hasText: 'guessed 1.0 s per file' }).waitFor({ timeout: 5_000 });
      await ctx.screenshot('slurm-2-preview-confirm');
      await dialog.locator('.monaco-button', { hasText: 'Submit' }).first().click();

      // live: the same notification and status bar item as a local run, plus the array tasks' states
      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Parallel Run: sleepy.py over' }).first();
      await toast.waitFor({ timeout: 60_000 });
      await page.locator('.notifications-toasts .notification-toast', { hasText: new RegExp(`\\d+/${FILES} files · .*array tasks: .*running`) }).first().waitFor({ timeout: 90_000 });
      const bar = page.locator('.statusbar-item', { hasText: new RegExp(`Slurm \\d+/${FILES}`) }).first();
      await bar.waitFor({ timeout: 30_000 });
      await ctx.screenshot('slurm-3-progress-statusbar');

      // finished: summary notification, then the run in the Runs view with its files
      const summary = page.locator('.notifications-toasts .notification-toast', { hasText: new RegExp(`succeeded: ${FILES} succeeded, 0 failed .* on Slurm`) }).first();
      await summary.waitFor({ timeout: 180_000 });
      await bar.waitFor({ state: 'hidden', timeout: 30_000 });
      await expectRunInRunsView(ctx, 'sleepy.py', FILES, 'f1.txt');
      await ctx.screenshot('slurm-4-runs-view');

      // it really ran on Slurm: one job array, the partition asked for, every file succeeded
      const runDir = onlyRunDir(ctx);
      const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8'));
      if (report.backend !== 'slurm' || report.status !== 'succeeded' || report.counts.succeeded !== FILES) {
        throw new Error(`report: ${report.backend} ${report.status}, ${report.counts.succeeded} succeeded`);
      }
      const sub = JSON.parse(fs.readFileSync(path.join(runDir, 'slurm', 'submission.json'), 'utf8'));
      const script = fs.readFileSync(path.join(runDir, 'slurm', 'submit.sbatch'), 'utf8');
      if (sub.jobs.length !== 1 || !/^#SBATCH --partition=debug$/m.test(script) || !/^#SBATCH --array=0$/m.test(script)) {
        throw new Error(`expected one array (one task) on partition debug:\n${script}`);
      }
    },
  },
];
