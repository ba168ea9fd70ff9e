/**
 * Failures in the real workbench (packaged extension, Chromium): a run of a calibration script over
 * the example's fields where 3 lack EXPTIME (KeyError) and one is not a FITS file (ValueError in
 * analyze.py). Screenshots, dark then light: the report's failures section (first, largest group
 * first, the exception line shown and the traceback expanded), the Problems panel's diagnostic at the
 * script's line, and the Explorer's marks on the inputs.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Frame } from 'playwright-core';
import type { E2EContext, E2EScenario } from './harness';
import { openFile } from './harness';
import { activated, reportFrame, startRun, theme } from './report.e2e';

const CALIBRATE = `"""Calibrate one field: the exposure time comes from the FITS header."""
import sys
from pathlib import Path

from analyze import read_image


def exposure(path):
    image, header = read_image(Path(path))
    return float(header["EXPTIME"])


print(sys.argv[1], exposure(sys.argv[1]))
`;

/** Fields 0..11; 3, 7 and 10 lack EXPTIME; field_broken is not a FITS file. */
function makeData(workspace: string): void {
  execFileSync('python3', ['make_data.py', '--count', '12'], { cwd: workspace, stdio: 'ignore' });
  for (let i = 0; i < 12; i++) {
    if ([3, 7, 10].includes(i)) continue;
    const f = path.join(workspace, 'data', `field_${String(i).padStart(4, '0')}.fits`);
    const raw = fs.readFileSync(f, 'latin1');
    // one header card (80 characters) becomes EXPTIME: the other fields keep their size and data
    const at = raw.indexOf('NSTARS  =');
    fs.writeFileSync(f, raw.slice(0, at) + 'EXPTIME =                 30.0'.padEnd(80, ' ') + raw.slice(at + 80), 'latin1');
  }
  fs.writeFileSync(path.join(workspace, 'data', 'field_broken.fits'), 'this is not a FITS file\n');
  fs.writeFileSync(path.join(workspace, 'calibrate.py'), CALIBRATE);
}

/** The report in front (a hidden report webview is discarded: its frame is found again, not kept). */
async function reportInFront(ctx: E2EContext): Promise<Frame> {
  await ctx.runCommand('Parallel Run: Show Run Report');
  return await reportFrame(ctx.page);
}

async function shots(ctx: E2EContext, suffix: string): Promise<void> {
  const { page } = ctx;
  // the report: the failures section is the first one
  const view = await reportInFront(ctx);
  await view.locator('.failure-group').first().waitFor({ timeout: 60_000 });
  // the panel may draw again when shown: the failures section is the first one, at the top; the pointer
  // on the empty part of the Explorer (a tab's hover would cover the report's toolbar)
  await page.mouse.move(200, 770);
  await page.waitForTimeout(800);
  await ctx.screenshot(`failures-1-report-${suffix}`);
  // the Problems panel: one diagnostic at calibrate.py's line
  await openFile(ctx, 'calibrate.py');
  try {
    await ctx.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
  } catch {
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Shift+M');
  }
  await page.locator('.markers-panel .monaco-list-row', { hasText: 'files failed here' }).first().waitFor({ timeout: 30_000 });
  await page.waitForTimeout(500);
  await ctx.screenshot(`failures-2-problems-${suffix}`);
  // the Explorer: marks on the inputs
  await ctx.runCommand('View: Show Explorer');
  const data = page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^data$/ }).first();
  await data.waitFor({ timeout: 15_000 });
  if ((await data.getAttribute('aria-expanded')) !== 'true') await data.click();
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'field_0003.fits' }).first().waitFor({ timeout: 15_000 });
  await page.mouse.move(200, 770);
  await page.waitForTimeout(800);
  await ctx.screenshot(`failures-3-explorer-${suffix}`);
}

export const scenarios: E2EScenario[] = [
  {
    name: 'failures: report section, Problems and Explorer marks, dark and light',
    userSettings: { 'parallelRun.openReportWhenDone': true },
    async run(ctx) {
      const { page } = ctx;
      makeData(ctx.workspace);
      await activated(ctx);
      await openFile(ctx, 'calibrate.py');
      await startRun(ctx, 'data/*.fits', 13);
      const view = await reportFrame(page);
      await view.locator('.badge', { hasText: /finished with/ }).first().waitFor({ timeout: 240_000 });
      const groups = view.locator('.failure-group');
      await groups.first().waitFor({ timeout: 60_000 });
      const titles = await view.locator('.failure-group .group-error').allInnerTexts();
      if (titles.length !== 2 || !titles[0].startsWith("KeyError: 'EXPTIME' (calibrate.py:10)") || !titles[1].startsWith('ValueError: no END card')) {
        throw new Error(`failure groups shown: ${JSON.stringify(titles)}`);
      }
      // the exception line is shown whole; the traceback expands
      const exception = await groups.first().locator('pre.exception').innerText();
      if (exception.trim() !== "KeyError: 'EXPTIME'") throw new Error(`exception line: ${exception}`);
      await groups.first().locator('.traceback summary').click();
      // the end notification names the largest group
      await page.locator('.notifications-toasts .notification-toast', { hasText: "4 of 13 files failed — most (3) with KeyError: 'EXPTIME'" }).first().waitFor({ timeout: 30_000 });
      await shots(ctx, 'dark');
      await theme(ctx, 'Light Modern', () => reportInFront(ctx));
      await shots(ctx, 'light');
    },
  },
];
