/**
 * The packaged Parallel Run: the .vsix holds every file of media/ and nothing the Python hosts compile at
 * run time (__pycache__); installed in the real workbench, its commands are in the palette.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { E2EScenario, ROOT } from './harness';

/** media/'s files (relative paths), without compiled Python, and whether any __pycache__ was there. */
function mediaFiles(dir = path.join(ROOT, 'media'), rel = ''): { files: string[]; caches: number } {
  const out = { files: [] as string[], caches: 0 };
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === '__pycache__') out.caches++;
    else if (e.isDirectory()) {
      const sub = mediaFiles(path.join(dir, e.name), `${rel}${e.name}/`);
      out.files.push(...sub.files);
      out.caches += sub.caches;
    } else out.files.push(`${rel}${e.name}`);
  }
  return out;
}

function checkPackageContents(): void {
  const vsix = path.join(ROOT, 'dist-vsix', 'parallel-run.vsix');
  const list = 'import sys, zipfile\nprint("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))';
  const entries = execFileSync('python3', ['-c', list, vsix], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const cached = entries.filter((e) => e.includes('__pycache__') || e.endsWith('.pyc'));
  if (cached.length > 0) throw new Error(`the .vsix holds compiled Python: ${cached.slice(0, 3).join(', ')}`);
  const media = mediaFiles();
  const missing = media.files.filter((f) => !entries.includes(`extension/media/${f}`));
  if (missing.length > 0) throw new Error(`media files missing from the .vsix: ${missing.join(', ')}`);
  console.log(`[e2e] .vsix: ${media.files.length} media files, no compiled Python (${media.caches} __pycache__ folders in media/ left out)`);
}

export const scenarios: E2EScenario[] = [
  {
    name: 'packaged extension: every media file and no compiled Python in the .vsix; shows in the Extensions view, its commands in the command palette',
    async run(ctx) {
      checkPackageContents();
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
