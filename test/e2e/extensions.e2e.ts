/** The packaged Parallel Run is installed in the real workbench and its commands are in the palette. */
import type { E2EScenario } from './harness';

export const scenarios: E2EScenario[] = [
  {
    name: 'packaged extension shows in the Extensions view, its commands in the command palette',
    async run(ctx) {
      const { page } = ctx;
      await ctx.runCommand('View: Show Extensions');
      // the search box of the Extensions view has focus: list what is installed
      await page.locator('.extensions-viewlet').waitFor({ timeout: 30_000 });
      await page.waitForTimeout(500);
      await page.keyboard.type('@installed Parallel Run');
      const row = page.locator('.extensions-viewlet .monaco-list-row', { hasText: 'Parallel Run' }).first();
      await row.waitFor({ timeout: 30_000 });
      await row.click();
      // the extension editor opens with the manifest's display name and description
      await page.locator('.extension-editor .name', { hasText: 'Parallel Run' }).first().waitFor({ timeout: 30_000 });
      await page.waitForTimeout(800);
      await ctx.screenshot('extensions-view-installed');

      // and its commands are in the command palette
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      await input.fill('>Parallel Run:');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Run Script over Files' }).first().waitFor({ timeout: 15_000 });
      const n = await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Parallel Run:' }).count();
      if (n < 5) throw new Error(`expected several Parallel Run commands in the palette, saw ${n}`);
      await ctx.screenshot('command-palette');
      await page.keyboard.press('Escape');
    },
  },
];
