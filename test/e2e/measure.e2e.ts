/**
 * Measure before you parallelise, in the real workbench: "Parallel Run: Measure Speedup…" on the
 * example script with a CPU burner started by the test (a busy machine), the sweep's progress, the
 * report panel with the busy-machine warning, the recommendation and its Apply button, the sweep plot
 * (speedup vs workers, ideal line, the Amdahl fit only when it fits) and table, and the notification
 * offering to measure again. Then Compare Runs of two unlike runs (different file counts, cold vs warm,
 * different workers): the differences named and no "faster" headline.
 */
import { execFileSync, spawn } from 'child_process';
import * as path from 'path';
import type { Frame, Page } from 'playwright-core';
import type { E2EContext, E2EScenario } from './harness';
import { openFile, ROOT } from './harness';

const IMAGES = 8;

/** The report webview's document that shows the sweep (webview iframes carry no stable title). */
async function sweepFrame(page: Page, timeoutMs: number): Promise<Frame> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const f of page.frames()) {
      if (f.isDetached()) continue;
      if ((await f.locator('h2', { hasText: 'Scaling sweep' }).count().catch(() => 0)) > 0) return f;
    }
    await page.waitForTimeout(500);
  }
  throw new Error('the report panel did not show the sweep section');
}

export const scenarios: E2EScenario[] = [
  {
    name: 'Measure Speedup → progress → report panel with the sweep plot → Apply offered',
    userSettings: { 'parallelRun.sweep.budgetSeconds': 6 },
    async run(ctx) {
      const { page } = ctx;
      execFileSync('python3', ['make_data.py', '--count', String(IMAGES)], { cwd: ctx.workspace, stdio: 'ignore' });
      await openFile(ctx, 'analyze.py');

      // a busy machine, made here: one Python spinning outside the sweep's process tree, started as
      // the sweep starts (earlier, it would slow the command palette this test types into)
      let burner: ReturnType<typeof spawn> | undefined;
      try {
        await measureOnBusyMachine(ctx, () => {
          burner = spawn('python3', ['-c', 'import time\nt = time.time()\nwhile time.time() - t < 600: pass'], { stdio: 'ignore', detached: true });
        });
      } finally {
        try { if (burner?.pid) process.kill(-burner.pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    },
  },
  {
    name: 'Compare Runs of unlike runs: 8 cold files on 2 workers vs 3 warm files on 1 → differences named, no "faster"',
    async run(ctx) {
      const { page } = ctx;
      execFileSync('python3', ['make_data.py', '--count', String(IMAGES)], { cwd: ctx.workspace, stdio: 'ignore' });
      const cli = path.join(ROOT, 'dist', 'cli.js');
      const runs = path.join(ctx.workspace, '.parallel-run', 'runs');
      execFileSync(process.execPath, [cli, 'run', '-j', '2', '--quiet', '--label', 'cold-8-files', '--out', path.join(runs, 'cold8'), '--script', 'analyze.py', '--files', 'data/*.fits'], { cwd: ctx.workspace, stdio: 'ignore' });
      execFileSync(process.execPath, [cli, 'run', '-j', '1', '--warm', '--quiet', '--label', 'warm-3-files', '--out', path.join(runs, 'warm3'), '--script', 'analyze.py', '--files', 'data/*_000[0-2].fits'], { cwd: ctx.workspace, stdio: 'ignore' });
      await openFile(ctx, 'analyze.py');
      await ctx.runCommand('Parallel Run: Compare Runs');
      for (const label of ['cold-8-files', 'warm-3-files']) {
        const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
        await row.waitFor({ timeout: 60_000 });
        await row.click();
      }
      const frame = await frameWith(page, 'h1', 'Compare runs', 120_000);
      await frame.locator('.compare-headline').first().waitFor({ timeout: 30_000 });
      const headline = await frame.locator('.compare-headline').first().textContent();
      if (/faster|slower/.test(headline ?? '')) throw new Error(`a "faster" headline for unlike runs: ${headline}`);
      await frame.locator('.differences li', { hasText: 'Different inputs' }).first().waitFor({ timeout: 10_000 });
      await frame.locator('.differences li', { hasText: 'Different modes' }).first().waitFor({ timeout: 10_000 });
      await page.waitForTimeout(800);
      await ctx.screenshot('compare-unlike-runs');
      // the table's section heading at the top, clear of the sticky toolbar
      await frame.locator('h2', { hasText: 'Figures (B against A)' }).first().evaluate((el) => {
        el.scrollIntoView({ block: 'start' });
        el.ownerDocument.defaultView?.scrollBy(0, -60);
      });
      await page.waitForTimeout(500);
      await ctx.screenshot('compare-unlike-runs-table');
    },
  },
];

async function measureOnBusyMachine(ctx: E2EContext, startBurner: () => void): Promise<void> {
  const { page } = ctx;
  await ctx.runCommand('Parallel Run: Measure Speedup');
  const input = page.locator('.quick-input-widget input');
  await page.locator('.quick-input-widget .quick-input-title', { hasText: 'input files' }).waitFor({ timeout: 60_000 });
  await input.fill('data/*.fits');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: `${IMAGES} files` }).first().waitFor({ timeout: 90_000 });
  startBurner();
  await page.keyboard.press('Enter');

  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Measuring speedup of analyze.py' }).first();
  await toast.waitFor({ timeout: 60_000 });
  await toast.locator('text=/configurations, about \\d+ s/').first().waitFor({ timeout: 120_000 });
  await ctx.screenshot('measure-1-progress');

  // the report panel of the sweep: the busy warning, the recommendation with Apply, chart + table
  const frame = await sweepFrame(page, 300_000);
  const heading = frame.locator('h2', { hasText: 'Scaling sweep' }).first();
  await heading.scrollIntoViewIfNeeded();
  await frame.locator('.sweep .callout.busy', { hasText: 'The machine was busy' }).first().waitFor({ timeout: 30_000 });
  await frame.locator('.sweep .callout.busy button.measure-again').first().waitFor({ timeout: 10_000 });
  await frame.locator('.sweep button.apply').first().waitFor({ timeout: 30_000 });
  // the chart is drawn (uPlot canvas) under the heading, with its table of points
  await frame.locator('canvas').last().waitFor({ timeout: 30_000 });
  await frame.locator('td', { hasText: /^\d+(\.\d+)?×$/ }).first().waitFor({ timeout: 30_000 }).catch(() => undefined);
  await heading.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.waitForTimeout(1000);
  await ctx.screenshot('measure-2-busy-sweep-report');
  // the report's header: mode, workers × threads, and the busy machine
  await frame.locator('.run-header .setting', { hasText: 'machine: busy' }).first().waitFor({ timeout: 10_000 });
  // the header is the top of the page (a sticky toolbar would hide it if scrolled to the edge)
  await frame.locator('.run-header h1').first().evaluate((el) => el.ownerDocument.defaultView?.scrollTo(0, 0));
  await page.waitForTimeout(500);
  await ctx.screenshot('measure-3-busy-header');

  const offer = page.locator('.notifications-toasts .notification-toast', { hasText: /Recommended: \d+ workers? × \d+ threads?/ }).first();
  await offer.waitFor({ timeout: 30_000 });
  await offer.locator('a.monaco-button, .monaco-button', { hasText: 'Measure Again' }).first().waitFor({ timeout: 10_000 });
  await offer.locator('a.monaco-button, .monaco-button', { hasText: 'Apply' }).first().waitFor({ timeout: 10_000 });
}

/** The webview document holding `selector` with `text` (webview iframes carry no stable title). */
async function frameWith(page: Page, selector: string, text: string, timeoutMs: number): Promise<Frame> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const f of page.frames()) {
      if (f.isDetached()) continue;
      if ((await f.locator(selector, { hasText: text }).count().catch(() => 0)) > 0) return f;
    }
    await page.waitForTimeout(500);
  }
  throw new Error(`no webview showed ${selector} "${text}"`);
}
