/**
 * Experiments in the real extension host: the "Run over a grid…" lens on a top-level function with
 * parameters, and its command running the function over the grid with in-process calls, each return
 * value a row of results.csv.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunReport } from '../../extension/core/run/types';
import { Commands } from '../../extension/shared/ids';
import { services, waitFor, ws } from './runHelpers';

describe('experiments: run a function over a grid', function () {
  this.timeout(180_000);

  before(async () => {
    await services();
  });

  it('offers "Run over a grid…" on a top-level function with parameters, its parameters as the axes', async () => {
    const doc = await vscode.workspace.openTextDocument(ws('lik.py'));
    await vscode.window.showTextDocument(doc);
    const lens = await waitFor('the grid lens', async () => {
      const all = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri)) ?? [];
      return all.find((l) => l.command?.command === Commands.runGrid);
    }, 60_000);
    assert.strictEqual(lens.command!.title, '$(table) Run over a grid…');
    assert.strictEqual(lens.range.start.line, 5, 'on the def line');
    assert.deepStrictEqual(lens.command!.arguments!.slice(1), ['loglike', ['mu', 'sigma', 'file']]);
  });

  it('runs the function once per grid point in-process and writes results.csv', async () => {
    const report = (await vscode.commands.executeCommand(Commands.runGrid, { script: 'lik.py', func: 'loglike', grid: { mu: '0:1:0.5', sigma: [1, 2] }, workers: 2, wait: true })) as RunReport;
    assert.strictEqual(report.status, 'succeeded');
    assert.strictEqual(report.counts.succeeded, 6);
    assert.ok(report.tasks.every((t) => t.mode === 'call'));
    const dir = ws('.parallel-run', 'runs', report.runId);
    const csv = fs.readFileSync(path.join(dir, 'results.csv'), 'utf8').trim().split('\n');
    assert.strictEqual(csv[0], 'mu,sigma,status,seconds,max_rss_mb,ll');
    const ll = new Map(csv.slice(1).map((l) => l.split(',')).map((c) => [`${c[0]}/${c[1]}`, Number(c[5])]));
    assert.strictEqual(ll.get('0.5/2'), 0);
    assert.strictEqual(ll.get('0/2'), -0.125);
  });

  it('refuses a grid the function cannot take, naming the parameter', async () => {
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand(Commands.runGrid, { script: 'lik.py', func: 'loglike', grid: { mu: [1] }, wait: true })),
      /no input gives its required parameter sigma/,
    );
  });
});
