/**
 * The editor feature in the real workbench (packaged .vsix): the tutorial's Pool example pasted into a
 * script shows the thread-picture lens (no run lens: it takes no input) and the PR001/PR002/PR005 squiggles;
 * the hover explains one, the light bulb offers the fixes, and the Problems panel lists them with
 * their codes. A loop over files shows "Parallelize this loop". A notebook (written with nbformat) shows
 * the lenses and the PR006 squiggle in its cells, and the light bulb offers "Move to a module", in the
 * dark and the light theme.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { E2EContext, E2EScenario } from './harness';
import { openFile } from './harness';
import { ROOT } from './harness';

/**
 * Hides the panel (more room for the next editor). By its keybinding (Ctrl+J toggles it), checked,
 * then by the palette under the titles VS Code has used ("Hide Panel", earlier "Close Panel"); the
 * scenario does not depend on it, so a workbench that renames both only costs the extra room.
 */
async function hidePanel(ctx: E2EContext): Promise<void> {
  const { page } = ctx;
  const panel = page.locator('.part.panel');
  const hidden = () => panel.waitFor({ state: 'hidden', timeout: 3_000 }).then(() => true, () => false);
  if (!(await panel.isVisible())) return;
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+J');
  if (await hidden()) return;
  for (const title of ['View: Hide Panel', 'View: Close Panel']) {
    try {
      await ctx.runCommand(title);
      if (await hidden()) return;
    } catch {
      await page.keyboard.press('Escape');
    }
  }
  ctx.log('the panel stayed open (no Ctrl+J, no "Hide Panel"/"Close Panel" command): continuing');
}

export const scenarios: E2EScenario[] = [
  {
    name: 'Editor: thread-picture and run lenses, PR diagnostics with hover, quick fixes and Problems',
    async run(ctx) {
      const { page } = ctx;
      const fixtures = path.join(ROOT, 'test', 'fixtures', 'editor');
      fs.copyFileSync(path.join(fixtures, 'tutorial_pool.py'), path.join(ctx.workspace, 'tutorial_pool.py'));
      fs.copyFileSync(path.join(fixtures, 'file_loops.py'), path.join(ctx.workspace, 'file_loops.py'));
      await openFile(ctx, 'tutorial_pool.py');

      // lenses: the thread picture on the Pool line
      const lens = page.locator('.contentWidgets .codelens-decoration');
      await lens.filter({ hasText: /4 processes × \d+ BLAS threads? on \d+ cores?/ }).first().waitFor({ timeout: 90_000 });
      // no "Run over files in parallel" here: the tutorial's pool script takes no input (no sys.argv)
      // diagnostics: squiggles under the pool and the numpy import
      await page.locator('.monaco-editor .squiggly-warning').first().waitFor({ timeout: 60_000 });
      await page.waitForTimeout(500);
      await ctx.screenshot('editor-1-lenses-and-squiggles');

      // hover on the pool call (the lowest squiggle on screen, line 7): message, code link, quick fix
      const boxes = await page.locator('.monaco-editor .squiggly-warning').evaluateAll((els) =>
        els.map((e) => {
          const r = e.getBoundingClientRect();
          return { x: r.x + Math.min(r.width / 2, 60), y: r.y + r.height / 2 };
        }));
      const pool = boxes.sort((a, b) => b.y - a.y)[0];
      await page.mouse.move(pool.x, pool.y);
      const hover = page.locator('.monaco-hover', { hasText: 'PR001' }).first();
      await hover.waitFor({ timeout: 30_000 });
      await page.waitForTimeout(500);
      await ctx.screenshot('editor-2-diagnostic-hover');

      // the light bulb: quick fixes for the diagnostics on this line
      await page.mouse.click(pool.x, pool.y);
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+.');
      await page.locator('.action-widget', { hasText: /Wrap the module-level code/ }).first().waitFor({ timeout: 30_000 });
      await page.locator('.action-widget', { hasText: /with` block/ }).first().waitFor({ timeout: 10_000 });
      await page.waitForTimeout(300);
      await ctx.screenshot('editor-3-quick-fixes');
      await page.keyboard.press('Escape');

      // Problems panel: codes and messages
      const problems = page.locator('.markers-panel');
      try {
        await ctx.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
      } catch {
        // the palette title changed: its keybinding
        await page.keyboard.press('Escape');
        await page.keyboard.press('Control+Shift+M');
      }
      await problems.locator('.monaco-list-row', { hasText: 'PR005' }).first().waitFor({ timeout: 30_000 });
      await problems.locator('.monaco-list-row', { hasText: 'PR001' }).first().waitFor({ timeout: 10_000 });
      await page.waitForTimeout(300);
      await ctx.screenshot('editor-4-problems');
      await hidePanel(ctx);

      // a serial loop over files: "Parallelize this loop"
      await openFile(ctx, 'file_loops.py');
      await lens.filter({ hasText: 'Parallelize this loop' }).first().waitFor({ timeout: 60_000 });
      await page.waitForTimeout(300);
      await ctx.screenshot('editor-5-parallelize-loop');
    },
  },
  ...(['Default Dark Modern', 'Default Light Modern'] as const).map((theme): E2EScenario => ({
    name: `Editor: lenses and "Move to a module" in notebook cells (${theme})`,
    userSettings: { 'workbench.colorTheme': theme },
    async run(ctx) {
      const { page } = ctx;
      const tag = theme.includes('Light') ? 'light' : 'dark';
      const cells = [
        { type: 'markdown', source: '# Squares in a process pool' },
        { type: 'code', source: 'import multiprocessing\nmultiprocessing.set_start_method("spawn", force=True)' },
        { type: 'code', source: 'n = 6', tags: ['parameters'] },
        { type: 'code', source: 'def square(x):\n    return x * x' },
        { type: 'code', source: 'with multiprocessing.Pool(4) as pool:\n    print(pool.map(square, range(n)))' },
      ];
      execFileSync('/usr/bin/python3', [path.join(ROOT, 'test', 'fixtures', 'notebooks', 'make_notebook.py'), path.join(ctx.workspace, 'squares.ipynb')], { input: JSON.stringify(cells) });
      await openFile(ctx, 'squares.ipynb');
      const lens = page.locator('.notebookOverlay .codelens-decoration');
      await lens.filter({ hasText: 'Run Notebook over Files' }).first().waitFor({ timeout: 120_000 });
      await lens.filter({ hasText: /4 processes × \d+ BLAS threads? on \d+ cores?/ }).first().waitFor({ timeout: 60_000 });
      const squiggle = page.locator('.notebookOverlay .monaco-editor .squiggly-error').first();
      await squiggle.waitFor({ timeout: 60_000 });
      await page.waitForTimeout(500);
      await ctx.screenshot(`editor-notebook-1-lenses-${tag}`);

      // the light bulb on `square` in pool.map(square, ...): Move to a module
      // the fix is computed by the Python analysis: on a loaded machine the first Ctrl+. can come
      // before it is ready ("No code actions available"); a user would try again, and so does the test
      const box = (await squiggle.boundingBox())!;
      const move = page.locator('.action-widget', { hasText: /Move `square` to a module \(squares_workers\.py\)/ }).first();
      for (let attempt = 1; ; attempt++) {
        await page.mouse.click(box.x + Math.min(box.width / 2, 20), box.y + box.height / 2);
        await page.keyboard.press('Control+.');
        try {
          await move.waitFor({ timeout: 15_000 });
          break;
        } catch (e) {
          if (attempt === 4) throw e;
          await page.keyboard.press('Escape');
        }
      }
      await page.waitForTimeout(300);
      await ctx.screenshot(`editor-notebook-2-move-to-module-${tag}`);
      await page.keyboard.press('Escape');
    },
  })),
];
