/**
 * Measure before you parallelise, in the real workbench: "Parallel Run: Measure Speedup…" on the
 * example script, the sweep's progress, the report panel with the sweep plot (speedup vs workers,
 * ideal line, Amdahl fit) and table, and the "Apply" offer.
 */
import { execFileSync } from 'child_process';
import type { Frame, Page } from 'playwright-core';
import type { E2EContext, E2EScenario } from './harness';
import { openFile } from './harness';

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

      await ctx.runCommand('Parallel Run: Measure Speedup');
      const input = page.locator('.quick-input-widget input');
      await page.locator('.quick-input-widget .quick-input-title', { hasText: 'input files' }).waitFor({ timeout: 60_000 });
      await input.fill('data/*.fits');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: `${IMAGES} files` }).first().waitFor({ timeout: 90_000 });
      await page.keyboard.press('Enter');

      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Measuring speedup of analyze.py' }).first();
      await toast.waitFor({ timeout: 60_000 });
      await toast.locator('text=/configurations, about \\d+ s/').first().waitFor({ timeout: 120_000 });
      await ctx.screenshot('measure-1-progress');

      // the report panel of the sweep: chart + table
      const frame = await sweepFrame(page, 300_000);
      const heading = frame.locator('h2', { hasText: 'Scaling sweep' }).first();
      await heading.scrollIntoViewIfNeeded();
      // the chart is drawn (uPlot canvas) under the heading, with its table of points
      await frame.locator('canvas').last().waitFor({ timeout: 30_000 });
      await frame.locator('td', { hasText: /^\d+(\.\d+)?×$/ }).first().waitFor({ timeout: 30_000 }).catch(() => undefined);
      await heading.evaluate((el) => el.scrollIntoView({ block: 'start' }));
      await page.waitForTimeout(1000);
      await ctx.screenshot('measure-2-sweep-plot');

      const offer = page.locator('.notifications-toasts .notification-toast', { hasText: /Recommended: \d+ workers? × \d+ threads?/ }).first();
      await offer.waitFor({ timeout: 30_000 });
      await offer.locator('a.monaco-button, .monaco-button', { hasText: 'Apply' }).first().waitFor({ timeout: 10_000 });
      await ctx.screenshot('measure-3-apply-offer');
    },
  },
];
