/**
 * The report's Results section in the real workbench (packaged extension, Chromium): a likelihood
 * over a 63-point grid started from the "Run over a grid…" lens (mu 0:1:0.05 × sigma 1, 2, 3, one
 * point raising), the report opening at the end. The table draws only the rows in view, sorts by a
 * column, filters by text; the plot draws ll against mu with one line per sigma. Screenshots of the
 * table and the plot, dark then light; the filter and order survive the panel being hidden and
 * shown again; last, a failed row's error log opens from its link.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Frame } from 'playwright-core';
import type { E2EContext, E2EScenario } from './harness';
import { openFile } from './harness';
import { activated, reportFrame, theme } from './report.e2e';

const LIKELIHOOD = `"""A Gaussian log-likelihood over a grid of its parameters."""
import math


def loglike(mu: float, sigma: float):
    if mu == 0.75 and sigma == 3:
        raise ValueError("no fit at mu=0.75, sigma=3")
    ll = -((mu - 0.5) ** 2) / (2 * sigma**2) - math.log(sigma)
    return {"ll": round(ll, 6), "rmse": round(abs(mu - 0.5) * sigma, 6)}
`;

const ROWS = 21 * 3;

/** Answers one of the lens's questions (an input box titled "Run loglike over a grid: <name>"). */
async function answer(ctx: E2EContext, name: string, value: string): Promise<void> {
  const { page } = ctx;
  await page.locator('.quick-input-widget .quick-input-title', { hasText: `over a grid: ${name}` }).waitFor({ timeout: 30_000 });
  await page.locator('.quick-input-widget input').fill(value);
  await page.keyboard.press('Enter');
}

/** Rows of the table in the DOM (the pads above and below stand for the others). */
function domRows(view: Frame) {
  return view.locator('section.results-section table.results-table tbody tr:not(.pad)');
}

async function shots(ctx: E2EContext, view: Frame, suffix: string): Promise<void> {
  const { page } = ctx;
  const section = view.locator('section.results-section');
  await section.locator('h2').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.waitForTimeout(600);
  await ctx.screenshot(`results-1-table-${suffix}`);
  await section.locator('.plot-title').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  // the plot and its legend below it
  await section.locator('.results-chart canvas').first().waitFor({ timeout: 30_000 });
  await page.waitForTimeout(600);
  await ctx.screenshot(`results-2-plot-${suffix}`);
}

export const scenarios: E2EScenario[] = [
  {
    name: 'results: table (virtualised, sorted, filtered) and plot of a grid, dark and light; a failed row opens its log',
    userSettings: { 'parallelRun.openReportWhenDone': true },
    async run(ctx) {
      const { page } = ctx;
      fs.writeFileSync(path.join(ctx.workspace, 'likelihood.py'), LIKELIHOOD);
      await activated(ctx);
      await openFile(ctx, 'likelihood.py');
      const lens = page.locator('.codelens-decoration a', { hasText: 'Run over a grid' }).first();
      await lens.waitFor({ timeout: 90_000 });
      await lens.click();
      await answer(ctx, 'mu', '0:1:0.05');
      await answer(ctx, 'sigma', '1, 2, 3');
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ timeout: 30_000 });
      const ask = await dialog.innerText();
      if (!ask.includes(`over ${ROWS} points (mu × sigma)`)) throw new Error(`the grid's confirmation: ${ask}`);
      await dialog.locator('.monaco-button', { hasText: /^Run$/ }).first().click();

      const view = await reportFrame(page);
      await view.locator('.badge', { hasText: /finished/ }).first().waitFor({ timeout: 240_000 });
      const section = view.locator('section.results-section');
      await domRows(view).first().waitFor({ timeout: 60_000 });
      // the room of a wide table: the side bar closed, as a user reading results would
      await ctx.runCommand('View: Close Primary Side Bar').catch(() => undefined);
      await page.waitForTimeout(800);

      const summary = await section.locator('.results-summary').innerText();
      if (summary !== `${ROWS} rows · 2 inputs (mu, sigma) · 2 result columns · 1 failed`) throw new Error(`results summary: ${summary}`);
      const headers = await section.locator('thead th').allInnerTexts();
      if (headers.join('|') !== 'Log|mu|sigma|status|seconds|max_rss_mb|ll|rmse') throw new Error(`columns: ${headers.join('|')}`);
      const drawn = await domRows(view).count();
      if (!(drawn > 0 && drawn < ROWS)) throw new Error(`the table drew ${drawn} of ${ROWS} rows: not only those in view`);

      // sort by ll, highest first (two clicks: ascending, then descending)
      const ll = section.locator('thead button.sort', { hasText: /^ll/ });
      await ll.click();
      await ll.click();
      await section.locator('thead th[aria-sort="descending"]', { hasText: 'll' }).waitFor({ timeout: 10_000 });
      const top = await domRows(view).first().locator('td').allInnerTexts();
      // the most likely point: mu = 0.5, sigma = 1 (ll = 0)
      if (top[1] !== '0.5' || top[2] !== '1' || top[6] !== '0') throw new Error(`first row by ll descending: ${top.join('|')}`);
      const plotNote = await section.locator('.plot-note').innerText();
      if (!plotNote.includes('1 row without a number in ll is not drawn')) throw new Error(`plot note: ${plotNote}`);
      const legend = await section.locator('.u-legend .u-label').allInnerTexts();
      if (legend.join('|') !== 'mu|sigma = 1|sigma = 2|sigma = 3') throw new Error(`plot legend: ${legend.join('|')}`);
      await shots(ctx, view, 'dark');

      await theme(ctx, 'Light Modern', view);
      // the plot was drawn again in the light theme's colours
      await section.locator('.results-chart canvas').first().waitFor({ timeout: 30_000 });
      await shots(ctx, view, 'light');

      // the filter: rows of one sigma, and the plot follows
      await section.locator('.results-filter').fill('sigma=2');
      await section.locator('.results-count', { hasText: new RegExp(`^21 of ${ROWS} rows$`) }).waitFor({ timeout: 10_000 });
      await section.locator('.plot-note', { hasText: 'Drawn from the 21 rows the filter shows' }).waitFor({ timeout: 10_000 });
      // the failed row's error log, one click away
      await section.locator('.results-filter').fill('failed');
      await section.locator('.results-count', { hasText: new RegExp(`^1 of ${ROWS} rows$`) }).waitFor({ timeout: 10_000 });
      // the failed row is marked: its status in the error colour, its error log one click away
      const failedRow = section.locator('tbody tr.failed');
      if ((await failedRow.count()) !== 1 || (await failedRow.locator('td.status').innerText()) !== 'failed') throw new Error('the failed row is not marked');
      await section.locator('.results-filter').evaluate((el) => el.scrollIntoView({ block: 'center' }));
      await page.waitForTimeout(300);
      await ctx.screenshot('results-3-filtered-light');
      // another tab and back: the hidden panel's page was discarded; the filter and the order come back
      await page.locator('.tabs-container .tab', { hasText: 'likelihood.py' }).first().click();
      await page.locator('.tabs-container .tab', { hasText: 'Report:' }).first().click();
      const again = await reportFrame(page, 60_000);
      const back = again.locator('section.results-section');
      await back.locator('.results-count', { hasText: new RegExp(`^1 of ${ROWS} rows$`) }).waitFor({ timeout: 30_000 });
      if ((await back.locator('.results-filter').inputValue()) !== 'failed') throw new Error('the filter was not restored after the panel was shown again');
      await back.locator('thead th[aria-sort="descending"]', { hasText: 'll' }).waitFor({ timeout: 10_000 });
      await back.locator('tbody tr.failed button', { hasText: 'error log' }).click();
      await page.locator('.tabs-container .tab', { hasText: /\.err$/ }).first().waitFor({ timeout: 20_000 });
      // the editor draws spaces as no-break spaces
      const text = (await page.locator('.monaco-editor .view-lines').last().innerText()).replace(/\u00a0/g, ' ');
      if (!text.includes('no fit at mu=0.75, sigma=3')) throw new Error(`the error log shows: ${text.slice(0, 300)}`);
    },
  },
];
