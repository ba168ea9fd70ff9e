/**
 * The run flow over parameters in the real workbench (packaged extension, Chromium): a likelihood
 * script that takes no file, *Run Script over Files…*, "Parameters instead of files…", a parameter
 * typed as NAME=VALUES (its values previewed as you type), the script's arguments (names not given yet
 * announced), the review naming what is missing, a table of parameters from the workspace, the review
 * with the number of tasks and the first task's command, Enter; the run writes results.csv with one row
 * per tuple. Screenshots of the steps, dark; then light, the flow opened again (the script's
 * parameters remembered: straight to the review) and its parameter and arguments steps.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { E2EContext, E2EScenario } from './harness';
import { openFile } from './harness';
import { activated, theme } from './report.e2e';

const LIKELIHOOD = `"""The likelihood of one parameter set: python likelihood.py --mu MU --sigma SIGMA --scale SCALE."""
import argparse
import json

parser = argparse.ArgumentParser()
for name in ("--mu", "--sigma", "--scale"):
    parser.add_argument(name, type=float, required=True)
a = parser.parse_args()
print(json.dumps({"loglike": round(-((a.mu - 0.5) ** 2) / a.sigma * a.scale, 6)}))
`;
const PARAMS = 'sigma,scale\n1,10\n2,20\n';

/** A screenshot with the mouse away from the quick input (a hover left by the last click would cover it). */
async function shot(ctx: E2EContext, name: string): Promise<void> {
  await ctx.page.mouse.move(700, 700);
  await ctx.page.waitForTimeout(300);
  await ctx.screenshot(name);
}

function row(ctx: E2EContext, text: string | RegExp) {
  return ctx.page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
}

/** In the review: types to narrow the list to the line, as a user does, and takes it with Enter. */
async function choose(ctx: E2EContext, filter: string, rowText: string | RegExp): Promise<void> {
  await titled(ctx, 'ready');
  await ctx.page.locator('.quick-input-widget input').fill(filter);
  await row(ctx, rowText).waitFor({ timeout: 15_000 });
  await ctx.page.keyboard.press('Enter');
}

async function titled(ctx: E2EContext, text: string | RegExp): Promise<void> {
  await ctx.page.locator('.quick-input-widget .quick-input-title', { hasText: text }).waitFor({ timeout: 30_000 });
}

/** The flow's first question: the files (the script is the active editor), or the script first when it is not yet. */
async function openFlow(ctx: E2EContext, then: RegExp): Promise<void> {
  await openFile(ctx, 'likelihood.py');
  await ctx.runCommand('Parallel Run: Run Script over Files');
  const title = ctx.page.locator('.quick-input-widget .quick-input-title');
  await title.filter({ hasText: new RegExp(`${then.source}|script to run`) }).waitFor({ timeout: 60_000 });
  if (/script to run/.test(await title.innerText())) await row(ctx, 'likelihood.py').click();
  await titled(ctx, then);
}

async function waitForFile(ctx: E2EContext, file: string, ok: (text: string) => boolean, timeoutMs: number): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (ok(text)) return text;
    if (Date.now() > end) throw new Error(`${file} did not appear as expected; it holds: ${text.slice(0, 500)}`);
    await ctx.page.waitForTimeout(500);
  }
}

export const scenarios: E2EScenario[] = [
  {
    name: 'run flow over parameters: typed values, arguments, a table, the task count; dark and light',
    userSettings: { 'parallelRun.openReportWhenDone': false },
    async run(ctx) {
      const { page } = ctx;
      fs.writeFileSync(path.join(ctx.workspace, 'likelihood.py'), LIKELIHOOD);
      fs.writeFileSync(path.join(ctx.workspace, 'params.csv'), PARAMS);
      await activated(ctx);
      const input = page.locator('.quick-input-widget input');
      const message = page.locator('.quick-input-widget .quick-input-message');

      // files, or parameters instead
      await openFlow(ctx, /input files/);
      await row(ctx, 'Parameters instead of files').waitFor({ timeout: 15_000 });
      await shot(ctx, 'grid-flow-1-files-or-parameters-dark');
      await row(ctx, 'Parameters instead of files').click();

      // a parameter as NAME=VALUES, its values previewed as typed
      await titled(ctx, 'add a parameter');
      await input.fill('mu=0:1:0.25');
      await message.filter({ hasText: 'mu: 5 values: 0, 0.25, 0.5, 0.75, 1' }).waitFor({ timeout: 15_000 });
      await shot(ctx, 'grid-flow-2-parameter-dark');
      await page.keyboard.press('Enter');

      // the review: 5 tasks; the arguments line
      await row(ctx, /Start run.*5 tasks/).waitFor({ timeout: 30_000 });
      await choose(ctx, 'Arguments:', 'Arguments: none');
      await titled(ctx, 'arguments of likelihood.py');
      await input.fill('--mu {mu} --sigma {sigma} --scale {scale}');
      await message.filter({ hasText: 'then give values for {sigma}, {scale} in the review' }).waitFor({ timeout: 15_000 });
      await shot(ctx, 'grid-flow-3-arguments-dark');
      await page.keyboard.press('Enter');

      // the review names what the arguments use and nothing gives yet
      await row(ctx, '{sigma} has no values').waitFor({ timeout: 30_000 });
      await row(ctx, 'Cannot start yet').waitFor({ timeout: 5_000 });
      await shot(ctx, 'grid-flow-4-review-missing-dark');
      await choose(ctx, 'table of parameters', 'Add a table of parameters');
      await titled(ctx, 'table of parameters');
      await row(ctx, 'params.csv').click();

      // ready: 10 tasks (5 values of mu × 2 rows), the first task's command line
      await row(ctx, /Start run.*10 tasks/).waitFor({ timeout: 30_000 });
      await row(ctx, 'First task: likelihood.py --mu 0 --sigma 1 --scale 10').waitFor({ timeout: 5_000 });
      await row(ctx, 'Table: params.csv').waitFor({ timeout: 5_000 });
      await shot(ctx, 'grid-flow-5-review-dark');
      await page.keyboard.press('Enter');

      // the run: results.csv with one row per tuple
      const runs = path.join(ctx.workspace, '.parallel-run', 'runs');
      const runDir = await (async () => {
        const end = Date.now() + 120_000;
        for (;;) {
          const dirs = fs.existsSync(runs) ? fs.readdirSync(runs) : [];
          if (dirs.length === 1) return path.join(runs, dirs[0]);
          if (Date.now() > end) throw new Error(`expected one run directory, found ${dirs.join(', ')}`);
          await page.waitForTimeout(500);
        }
      })();
      await waitForFile(ctx, path.join(runDir, 'report.json'), (t) => /"status": ?"succeeded"/.test(t), 300_000);
      const csv = (await waitForFile(ctx, path.join(runDir, 'results.csv'), (t) => t.trim().split('\n').length === 11, 60_000)).trim().split('\n');
      if (csv[0] !== 'mu,sigma,scale,status,seconds,max_rss_mb,loglike') throw new Error(`results.csv header: ${csv[0]}`);
      const rows = csv.slice(1).map((l) => l.split(',')).map((c) => `${c[0]}/${c[1]}/${c[2]} ${c[3]} ${c[6]}`).sort();
      if (rows[0] !== '0.25/1/10 succeeded -0.625' || !rows.every((r) => r.includes(' succeeded '))) throw new Error(`results.csv rows: ${rows.join(' | ')}`);
      await page.locator('.notifications-toasts .notification-toast', { hasText: /succeeded: 10 tasks|succeeded: 10 files/ }).first().waitFor({ timeout: 30_000 }).catch(() => undefined);
      await shot(ctx, 'grid-flow-6-finished-dark');

      // light: the flow again goes straight to the review (the script's parameters remembered)
      await page.keyboard.press('Escape');
      await theme(ctx, 'Light Modern');
      await openFlow(ctx, /ready/);
      await row(ctx, /Start run.*10 tasks/).waitFor({ timeout: 30_000 });
      await shot(ctx, 'grid-flow-5-review-light');
      await choose(ctx, 'mu =', 'mu = 0:1:0.25');
      await titled(ctx, 'values of mu');
      await message.filter({ hasText: '5 values: 0, 0.25, 0.5, 0.75, 1' }).waitFor({ timeout: 15_000 });
      await shot(ctx, 'grid-flow-2-parameter-light');
      await page.keyboard.press('Escape');
      await choose(ctx, 'Arguments:', 'Arguments: --mu {mu}');
      await titled(ctx, 'arguments of likelihood.py');
      await input.fill('--mu {mu} --sigma {sigma} --scale {scale} --title "open');
      await message.filter({ hasText: 'close the quote' }).waitFor({ timeout: 15_000 });
      await shot(ctx, 'grid-flow-3-arguments-error-light');
      await page.keyboard.press('Escape');
      await row(ctx, /Start run.*10 tasks/).waitFor({ timeout: 30_000 });
      await page.keyboard.press('Escape');
      if (fs.readdirSync(runs).length !== 1) throw new Error('closing the flow started a run');
    },
  },
];
