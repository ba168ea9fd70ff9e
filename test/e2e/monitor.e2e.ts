/**
 * The resource monitor in the real workbench (packaged extension, Chromium): the status bar item and
 * its tooltip, the Resource Monitor panel drawing live charts, restored by its serializer after a
 * window reload, and the panel during a real run of the bundled example (busy workers, process table).
 */
import { execFileSync } from 'child_process';
import type { Frame, Page } from 'playwright-core';
import type { E2EScenario } from './harness';

const STATUS = /CPU \d{1,3}% · RAM [\d.]+\/[\d.]+ GB/;

/** The monitor webview's inner document, found by its headline. */
async function monitorFrame(page: Page, timeoutMs = 60_000): Promise<Frame> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const f of page.frames()) {
      if (f.isDetached()) continue;
      const n = await f.locator('h1.headline', { hasText: /^CPU / }).count().catch(() => 0);
      if (n > 0) return f;
    }
    await page.waitForTimeout(300);
  }
  throw new Error('the Resource Monitor panel did not draw a headline');
}

async function expect(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000, page?: Page): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    await (page ? page.waitForTimeout(250) : new Promise((r) => setTimeout(r, 250)));
  }
  throw new Error(`timed out: ${what}`);
}

async function checkPanel(frame: Frame, cores: number): Promise<void> {
  const headline = (await frame.locator('h1.headline').textContent()) ?? '';
  if (!STATUS.test(headline)) throw new Error(`headline "${headline}"`);
  const bars = await frame.locator('.cores .core').count();
  if (bars !== cores) throw new Error(`${bars} core bars, expected ${cores}`);
  // two uPlot charts, each with a canvas and a legend naming its series
  if ((await frame.locator('.chart canvas').count()) !== 2) throw new Error('expected 2 chart canvases');
  for (const label of ['total', 'cpu0', 'used', 'swap used']) {
    if ((await frame.locator('.u-legend .u-label', { hasText: label }).count()) === 0) throw new Error(`legend lacks "${label}"`);
  }
}

export const scenarios: E2EScenario[] = [
  {
    name: 'status bar CPU/RAM item, its tooltip, the Resource Monitor (live, restored after reload) and during a run',
    async run(ctx) {
      const { page } = ctx;
      const cores = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
      // the status bar item appears once the extension activates
      const item = page.locator('.statusbar-item', { hasText: STATUS }).first();
      await item.waitFor({ timeout: 90_000 });
      const first = (await item.textContent()) ?? '';
      ctx.log('status bar:', first.trim());
      await expect('the item to refresh', async () => ((await item.textContent()) ?? '') !== first, 15_000, page);

      // the status bar on its own, then the tooltip
      const bar = await page.locator('.statusbar').boundingBox();
      if (bar) await page.screenshot({ path: await ctx.screenshot('monitor-statusbar'), clip: { x: Math.max(0, bar.x + bar.width - 700), y: bar.y, width: Math.min(700, bar.width), height: bar.height } });
      await item.hover();
      const hover = page.locator('.monaco-hover', { hasText: 'Click to open the Resource Monitor' }).first();
      await hover.waitFor({ state: 'visible', timeout: 15_000 });
      const tip = (await hover.textContent()) ?? '';
      for (const want of [/CPU \d+% of \d+ cores? · load/, /cpu0/, /RAM [\d.]+ of [\d.]+ GB/]) {
        if (!want.test(tip)) throw new Error(`tooltip lacks ${want}: ${tip}`);
      }
      await ctx.screenshot('monitor-statusbar-tooltip');
      await page.mouse.move(700, 400);

      // click → Resource Monitor panel
      await item.click();
      let frame = await monitorFrame(page);
      await expect('several points in the charts', async () => (await frame.locator('.status', { hasText: 'Live' }).count()) > 0, 15_000, page);
      await page.waitForTimeout(4000);
      await checkPanel(frame, cores);
      await ctx.screenshot('monitor-panel-dark');
      // a window reload restores the panel through its serializer, with live data again
      const reloaded = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 90_000 });
      await ctx.runCommand('Developer: Reload Window');
      await reloaded; // else the old page's monitor frame, about to go, would be found below
      await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
      frame = await monitorFrame(page, 90_000);
      await page.waitForTimeout(2500);
      await checkPanel(frame, cores);
      await ctx.screenshot('monitor-panel-restored');

      // during a real run: the example's analysis over 200 images, started from the palette
      execFileSync('python3', ['make_data.py', '--count', '200'], { cwd: ctx.workspace, stdio: 'ignore' });
      await ctx.runCommand('Parallel Run: Run Script over Files');
      const input = page.locator('.quick-input-widget input');
      // (the first question can take a while: the extension host restarted with the reload above, and
      // the integration layer runs alongside)
      const step = async (title: RegExp | string, answer?: string, row?: RegExp | string): Promise<void> => {
        await page.locator('.quick-input-widget', { hasText: title }).first().waitFor({ timeout: 60_000 });
        if (answer !== undefined) await input.fill(answer);
        if (row) await page.locator('.quick-input-list .monaco-list-row', { hasText: row }).first().waitFor({ timeout: 30_000 });
        await page.keyboard.press('Enter');
      };
      await step('script to run once per file', 'analyze.py', 'analyze.py');
      await step('input files', 'data/*.fits', /200 file/);
      await step(/Start run/, undefined, 'Start run');
      await expect('busy workers in the panel', async () => /[1-9]\/\d+ busy/.test((await frame.locator('h1.headline').textContent()) ?? ''), 90_000, page);
      // the example's python tasks, each with CPU % and RSS
      await expect('python tasks in the process table', async () => (await frame.locator('table.processes tbody tr', { hasText: 'python' }).count()) > 0, 30_000, page);
      await page.waitForTimeout(2000);
      await ctx.screenshot('monitor-panel-run');
      const busyItem = page.locator('.statusbar-item', { hasText: /busy/ }).first();
      await busyItem.waitFor({ timeout: 10_000 });
      await ctx.screenshot('monitor-statusbar-run');
      await ctx.runCommand('Parallel Run: Cancel Run');
    },
  },
];
