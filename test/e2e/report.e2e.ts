/**
 * The report panel in the real workbench (packaged extension, Chromium): a real run of the bundled
 * example, watched live and then final, screenshotted in dark, light and high-contrast themes; hover
 * and click on the timeline; a window reload restores the panel; a file named like markup shows as
 * text and runs nothing; the exported HTML opens offline with no console errors and no requests.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Frame, Page } from 'playwright-core';
import type { E2EContext, E2EScenario } from './harness';
import { openFile } from './harness';

/** Callbacks given to page.evaluate run in the browser page: the Node side's tsconfig has no DOM types. */
declare const document: any;

const IMAGES = 16;
const HOSTILE = '<img src=x onerror=alert(1)>.dat';

/** Palette → Run Script over Files → glob → review → start (the active editor's script). */
export async function startRun(ctx: E2EContext, glob: string, count: number): Promise<void> {
  const { page } = ctx;
  await ctx.runCommand('Parallel Run: Run Script over Files');
  const input = page.locator('.quick-input-widget input');
  await page.locator('.quick-input-widget .quick-input-title', { hasText: 'input files' }).waitFor({ timeout: 15_000 });
  await input.fill(glob);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: `${count} file` }).first().waitFor({ timeout: 30_000 });
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Start run' }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
}

/** The report webview's inner document (found by its content: webview iframes carry no stable title). */
export async function reportFrame(page: Page, timeoutMs = 240_000): Promise<Frame> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const f of page.frames()) {
      if (f.isDetached()) continue;
      const n = await f.locator('h2', { hasText: 'Per-worker timeline' }).count().catch(() => 0);
      if (n > 0) return f;
    }
    await page.waitForTimeout(500);
  }
  throw new Error('the report panel did not show a report');
}

/** The extension activates on startup: wait for its status bar item before driving commands. */
export async function activated(ctx: E2EContext): Promise<void> {
  await ctx.page.locator('.statusbar-item', { hasText: /CPU/ }).first().waitFor({ timeout: 90_000 });
}

/**
 * Switches the colour theme the way a user does (palette → Preferences: Color Theme → the theme's
 * row), checks the workbench took it, then waits for the webview (when given) to follow (it re-reads
 * VS Code's variables when the body class changes).
 */
export async function theme(ctx: E2EContext, name: string, view?: Frame | (() => Promise<Frame>)): Promise<void> {
  const { page } = ctx;
  const kind = name.includes('High Contrast') ? 'hc-black' : name.includes('Light') ? 'vs' : 'vs-dark';
  const workbenchIs = (): Promise<boolean> =>
    page.evaluate((k) => document.querySelector('.monaco-workbench')?.classList.contains(k) ?? false, kind);
  await page.locator('.tabs-container .tab', { hasText: /\.(out|err)$/ }).first().click({ timeout: 5_000 }).catch(() => undefined);
  for (let attempt = 1; !(await workbenchIs()); attempt++) {
    try {
      await ctx.runCommand('Preferences: Color Theme');
      const input = page.locator('.quick-input-widget input[placeholder*="Color Theme"]');
      await input.fill(name, { timeout: 15_000 });
      await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 15_000 });
      await page.keyboard.press('Enter');
      await page.waitForFunction((k) => document.querySelector('.monaco-workbench')?.classList.contains(k), kind, { timeout: 10_000 });
    } catch (err) {
      if (attempt >= 3) throw new Error(`the colour theme did not change to ${name}: ${(err as Error)?.message ?? err}`);
      ctx.log(`theme picker (attempt ${attempt}): ${String((err as Error)?.message ?? err).split('\n')[0]}`);
    }
  }
  const cls = kind === 'hc-black' ? 'vscode-high-contrast' : kind === 'vs' ? 'vscode-light' : 'vscode-dark';
  // a webview hidden meanwhile (another tab of its group came to the front) is discarded with its frame:
  // a caller that may lose it passes how to find it again
  if (view) await (typeof view === 'function' ? await view() : view).locator(`body.${cls}`).waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1200);
}

export const scenarios: E2EScenario[] = [
  {
    name: 'report of a real example run: live, final, dark/light/high-contrast, hover, click → log, reload restores',
    async run(ctx) {
      const { page } = ctx;
      execFileSync('python3', ['make_data.py', '--count', String(IMAGES)], { cwd: ctx.workspace, stdio: 'ignore' });
      // one damaged image: the report has a failure to show
      fs.writeFileSync(path.join(ctx.workspace, 'data', 'field_broken.fits'), 'this is not a FITS file\n');
      await activated(ctx);
      await openFile(ctx, 'analyze.py');
      await startRun(ctx, 'data/*.fits', IMAGES + 1);

      // live: open the report while the run goes on
      await page.locator('.notifications-toasts .notification-toast', { hasText: 'Parallel Run: analyze.py' }).first().waitFor({ timeout: 60_000 });
      await ctx.runCommand('Parallel Run: Show Run Report');
      let view = await reportFrame(page);
      await view.locator('.badge.status-running').first().waitFor({ timeout: 60_000 });
      // while running: done / total and an ETA that is a duration (not "estimating…" once files finished)
      const eta = view.locator('.card', { has: view.locator('.card-label', { hasText: 'ETA' }) }).first().locator('.card-value');
      await view.waitForFunction(
        (el) => /^\d+(\.\d+)?\s*(ms|s|min)\b/.test(el?.textContent ?? ''),
        await eta.elementHandle({ timeout: 30_000 }),
        { timeout: 60_000 },
      ).catch(async () => {
        throw new Error(`the live ETA card shows "${await eta.innerText().catch(() => '?')}", not a duration`);
      });
      const liveFiles = await view.locator('.card', { hasText: 'Files' }).first().locator('.card-value').innerText();
      if (!new RegExp(`^\\d+ / ${IMAGES + 1}$`).test(liveFiles)) throw new Error(`live files card: ${liveFiles} (total unknown?)`);
      await ctx.screenshot('report-0-live-dark');

      // final
      await view.locator('.badge', { hasText: /finished with 1 failed/ }).first().waitFor({ timeout: 240_000 });
      await view.locator('.card-label', { hasText: 'Speedup (estimate)' }).first().waitFor();
      const files = await view.locator('.card', { hasText: 'Files' }).first().innerText();
      if (!files.includes(`${IMAGES + 1} / ${IMAGES + 1}`)) throw new Error(`files card: ${files}`);
      await view.locator('table.failures', { hasText: 'field_broken.fits' }).first().waitFor();
      await page.waitForTimeout(800);
      await ctx.screenshot('report-1-final-dark');

      // hover a bar: tooltip with file, duration, exit status
      const canvas = view.locator('canvas.timeline-canvas');
      await canvas.scrollIntoViewIfNeeded();
      const box = await canvas.boundingBox();
      if (!box) throw new Error('timeline canvas has no box');
      const rects = Number(await canvas.getAttribute('data-rects'));
      if (!(rects > 0)) throw new Error(`timeline drew ${rects} bars`);
      // lane 1 sits under the 22 px axis; its middle is 10 px lower. Scan right until a bar is hit.
      const tooltip = view.locator('.tooltip');
      let hit = false;
      for (let x = box.x + 90; x < box.x + box.width - 10 && !hit; x += 12) {
        await page.mouse.move(x, box.y + 22 + 10);
        hit = await tooltip.isVisible();
      }
      if (!hit) throw new Error('hovering the timeline showed no tooltip');
      const tip = await tooltip.innerText();
      if (!/field_\w+\.fits/.test(tip) || !/exit status|killed by/.test(tip)) throw new Error(`tooltip: ${tip}`);
      await ctx.screenshot('report-2-hover-dark');
      // click: the task's log opens in an editor
      await page.mouse.down();
      await page.mouse.up();
      await page.locator('.tabs-container .tab', { hasText: /\.(out|err)$/ }).first().waitFor({ timeout: 20_000 });
      await ctx.screenshot('report-3-log-opened');
      // back to the report tab
      await page.locator('.tabs-container .tab', { hasText: 'Report:' }).first().click();
      // a hidden webview is discarded (no retainContextWhenHidden): it comes back through `ready`
      view = await reportFrame(page, 60_000);
      await view.locator('.badge', { hasText: /finished with 1 failed/ }).first().waitFor({ timeout: 30_000 });
      const canvas2 = view.locator('canvas.timeline-canvas');

      // zoom and pan: the visible window (data-window = "from,to" ms since the start) follows
      const win = async (): Promise<[number, number]> => {
        const w = (await canvas2.getAttribute('data-window')) ?? '';
        const [a, b] = w.split(',').map(Number);
        if (!Number.isFinite(a) || !Number.isFinite(b) || b <= a) throw new Error(`data-window "${w}"`);
        return [a, b];
      };
      const changed = async (before: [number, number]): Promise<[number, number]> => {
        for (let i = 0; i < 50; i++) {
          const w = await win();
          if (w[0] !== before[0] || w[1] !== before[1]) return w;
          await page.waitForTimeout(100);
        }
        return win();
      };
      await canvas2.scrollIntoViewIfNeeded();
      await canvas2.focus();
      const full = await win();
      await page.keyboard.press('+');
      const zoomed = await changed(full);
      if (!(zoomed[1] - zoomed[0] < (full[1] - full[0]) * 0.75)) throw new Error(`"+" did not narrow the window: ${full} → ${zoomed}`);
      await page.keyboard.press('ArrowRight');
      const panned = await changed(zoomed);
      if (!(panned[0] > zoomed[0]) || Math.abs(panned[1] - panned[0] - (zoomed[1] - zoomed[0])) > 2) throw new Error(`ArrowRight did not shift the window: ${zoomed} → ${panned}`);
      // drag to the right: the window moves back towards the start, keeping its width
      const cbox = await canvas2.boundingBox();
      if (!cbox) throw new Error('timeline canvas has no box');
      await page.mouse.move(cbox.x + cbox.width / 2, cbox.y + cbox.height - 4);
      await page.mouse.down();
      await page.mouse.move(cbox.x + cbox.width / 2 + 120, cbox.y + cbox.height - 4, { steps: 6 });
      await page.mouse.up();
      const dragged = await changed(panned);
      if (!(dragged[0] < panned[0])) throw new Error(`dragging did not pan the window: ${panned} → ${dragged}`);
      await ctx.screenshot('report-2b-zoomed-panned');

      // reload the window as a user does (Developer: Reload Window): the workbench saves its state,
      // the webview's included, before it reloads, and the serializer brings the report back from it.
      // (A bare page.reload() skips that save: a state saved earlier, e.g. before the webview had
      // stored its run directory, could come back.)
      // (the log opened beside the report takes the focus: keys typed in a webview may not reach the palette)
      await page.locator('.tabs-container .tab', { hasText: /\.(out|err)$/ }).first().click({ timeout: 5_000 }).catch(() => undefined);
      const reloaded = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 90_000 });
      await ctx.runCommand('Developer: Reload Window');
      await reloaded; // else the old page's report frame, about to go, would be found below
      await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
      const again = await reportFrame(page);
      await again.locator('.badge', { hasText: /finished with 1 failed/ }).first().waitFor({ timeout: 60_000 });
      await ctx.screenshot('report-7-restored-after-reload');

      // themes: summary, timeline and CPU chart readable in light, high contrast and dark
      const drawn = async (when: string): Promise<void> => {
        const rects = Number(await again.locator('canvas.timeline-canvas').getAttribute('data-rects'));
        if (!(rects > 0)) throw new Error(`${when}: the timeline drew ${rects} bars`);
        if ((await again.locator('.chart .uplot canvas').count()) < 1) throw new Error(`${when}: no CPU chart canvas`);
      };
      const timelineTop = async (): Promise<void> => {
        await again.locator('h2', { hasText: 'Per-worker timeline' }).first().evaluate((el) => el.scrollIntoView({ block: 'start' }));
        await page.waitForTimeout(400);
      };
      await theme(ctx, 'Default Light Modern', again);
      await drawn('light');
      await again.locator('h2', { hasText: 'Summary' }).first().evaluate((el) => el.scrollIntoView({ block: 'start' }));
      await ctx.screenshot('report-4-final-light');
      await timelineTop();
      await ctx.screenshot('report-5-timeline-light');
      await theme(ctx, 'Default High Contrast', again);
      await drawn('high contrast');
      await again.locator('h2', { hasText: 'Summary' }).first().evaluate((el) => el.scrollIntoView({ block: 'start' }));
      await ctx.screenshot('report-6-high-contrast');
      await timelineTop();
      await ctx.screenshot('report-6b-timeline-high-contrast');
      await theme(ctx, 'Default Dark Modern', again);
      await drawn('dark');
      await timelineTop();
      await ctx.screenshot('report-6c-timeline-dark');
    },
  },
  {
    // one run serves both checks: 6 images and a file named like markup (analyze.py fails on it)
    name: 'a file named like markup shows as text and runs no script; exported HTML opens offline with no console errors and no requests',
    async run(ctx) {
      const { page } = ctx;
      const dialogs: string[] = [];
      page.on('dialog', (d) => dialogs.push(d.message()));
      execFileSync('python3', ['make_data.py', '--count', '6'], { cwd: ctx.workspace, stdio: 'ignore' });
      fs.writeFileSync(path.join(ctx.workspace, 'data', HOSTILE), 'not an image\n');
      await activated(ctx);
      await openFile(ctx, 'analyze.py');
      await startRun(ctx, 'data/*', 7);
      const view = await reportFrame(page);
      await view.locator('table.failures').first().waitFor({ timeout: 240_000 });
      const cell = view.locator('table.failures .file').first();
      const text = await cell.innerText();
      if (text !== HOSTILE) throw new Error(`file name shown as ${JSON.stringify(text)}`);
      // no element was created from the name, anywhere in the webview document
      const imgs = await view.locator('img').count();
      if (imgs !== 0) throw new Error(`${imgs} <img> element(s) in the report webview`);
      const bodyText = await view.locator('body').innerText();
      if (!bodyText.includes(HOSTILE)) throw new Error('the name does not appear as text');
      await view.locator('.badge.status-failed').first().waitFor({ timeout: 240_000 }); // the run ended (1 of 7 failed)
      if (dialogs.length) throw new Error(`a dialog fired: ${dialogs.join(', ')}`);
      await cell.scrollIntoViewIfNeeded();
      await ctx.screenshot('report-8-markup-file-name');
      // the panel's own Export HTML button → format chosen → save dialog (code-server's simple dialog)
      await view.locator('button', { hasText: 'Export HTML' }).click();
      const target = path.join(ctx.workspace, 'exported-report.html');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      // code-server's simple save dialog validates the typed path asynchronously and may ignore an
      // Enter that arrives before it settles: type, wait until the value stuck, Enter, and retry the
      // Enter while the dialog is still open (on a busy machine the first one can be swallowed)
      await input.fill(target);
      for (let attempt = 0; attempt < 4 && !fs.existsSync(target); attempt++) {
        await page.waitForFunction((t) => (document.querySelector('.quick-input-widget input') as { value?: string } | null)?.value === t, target, { timeout: 10_000 }).catch(() => undefined);
        await page.waitForTimeout(1000);
        if (await input.isVisible()) {
          if ((await input.inputValue()) !== target) await input.fill(target);
          await page.keyboard.press('Enter');
        }
        for (let i = 0; i < 50 && !fs.existsSync(target); i++) await page.waitForTimeout(200);
      }
      if (!fs.existsSync(target)) {
        await ctx.screenshot('report-9-export-dialog-stuck');
        throw new Error(`export did not write the file (save dialog ${await input.isVisible() ? `still open with "${await input.inputValue()}"` : 'closed'})`);
      }
      await ctx.screenshot('report-9-exported');

      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
      try {
        for (const scheme of ['light', 'dark'] as const) {
          const p = await browser.newPage({ viewport: { width: 1200, height: 900 }, colorScheme: scheme });
          const errors: string[] = [];
          const requests: string[] = [];
          p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
          p.on('pageerror', (e) => errors.push(e.message));
          p.on('request', (r) => requests.push(r.url()));
          await p.goto(`file://${target}`);
          await p.waitForFunction(() => document.body.dataset.rendered, null, { timeout: 20_000 });
          await p.locator('canvas.timeline-canvas').waitFor();
          await p.waitForTimeout(500);
          await p.screenshot({ path: path.join(path.dirname(await ctx.screenshot('report-9-exported')), `report-10-exported-${scheme}.png`), fullPage: true });
          const bad = requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'));
          if (bad.length) throw new Error(`exported HTML made requests: ${bad.join(', ')}`);
          if (errors.length) throw new Error(`console errors in exported HTML: ${errors.join(' | ')}`);
          const rendered = JSON.parse((await p.evaluate(() => document.body.dataset.rendered)) ?? '{}');
          if (rendered.tasks !== 7) throw new Error(`exported report rendered ${rendered.tasks} tasks`);
          // the markup-like name is text in the exported file too: no element made from it
          if (!(await p.locator('body').innerText()).includes(HOSTILE)) throw new Error('exported HTML does not show the markup-like name as text');
          if ((await p.locator('img').count()) !== 0) throw new Error('an <img> element in the exported HTML');
          await p.close();
        }
      } finally {
        await browser.close();
      }
    },
  },
];
