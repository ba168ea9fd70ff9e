/**
 * tasks.json: `parallel-run` tasks from the fixture's .vscode/tasks.json, started through the real
 * task system (vscode.tasks.executeTask). The exit status is honoured: 0 all succeeded, 1 some failed,
 * 2 bad input.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { TASK_TYPE } from '../../extension/shared/ids';
import { services, waitFor, ws } from './runHelpers';

async function taskNamed(name: string): Promise<vscode.Task> {
  return waitFor(`task "${name}"`, async () => (await vscode.tasks.fetchTasks({ type: TASK_TYPE })).find((t) => t.name === name), 30_000);
}

/** Runs a task to its end; resolves with its exit code. */
async function runTask(task: vscode.Task): Promise<number | undefined> {
  return new Promise<number | undefined>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`task ${task.name} did not end`)), 90_000);
    const sub = vscode.tasks.onDidEndTaskProcess((e) => {
      if (e.execution.task.name !== task.name) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(e.exitCode);
    });
    vscode.tasks.executeTask(task).then(undefined, (err) => {
      clearTimeout(timer);
      sub.dispose();
      reject(err);
    });
  });
}

function runDirsNow(): Set<string> {
  const root = ws('.parallel-run', 'runs');
  return new Set(fs.existsSync(root) ? fs.readdirSync(root) : []);
}

describe('parallel-run task type', function () {
  this.timeout(120_000);

  before(async () => {
    await services();
    fs.rmSync(ws('fixed.flag'), { force: true });
  });

  it('a task from tasks.json runs every file and exits 0', async () => {
    const before = runDirsNow();
    const code = await runTask(await taskNamed('pr: ok'));
    assert.strictEqual(code, 0);
    const created = [...runDirsNow()].filter((d) => !before.has(d));
    assert.strictEqual(created.length, 1, 'one new run directory');
    const report = JSON.parse(fs.readFileSync(path.join(ws('.parallel-run', 'runs', created[0]), 'report.json'), 'utf8'));
    assert.strictEqual(report.counts.succeeded, 12);
    assert.strictEqual(report.workers, 2);
  });

  it('a task whose files partly fail exits 1', async () => {
    const code = await runTask(await taskNamed('pr: fail some'));
    assert.strictEqual(code, 1);
  });

  it('offers the last run as a task to save in tasks.json', async () => {
    await vscode.commands.executeCommand('parallelRun.runScript', { script: 'ok.py', files: 'data/a0[1-4].txt', workers: 2, wait: true, openReport: false });
    const offered = await waitFor('the provided task', async () =>
      (await vscode.tasks.fetchTasks({ type: TASK_TYPE })).find((t) => t.name === 'ok.py over data/a0[1-4].txt'));
    assert.deepStrictEqual(offered.definition.files, ['data/a0[1-4].txt']);
    assert.strictEqual(offered.definition.script, 'ok.py');
    assert.strictEqual(await runTask(offered), 0, 'the offered task runs');
  });

  it('a task with "grid" and "args" holding {name} runs each file × mu × sigma and writes results.csv', async () => {
    const before = runDirsNow();
    assert.strictEqual(await runTask(await taskNamed('pr: grid')), 0);
    const created = [...runDirsNow()].filter((d) => !before.has(d));
    assert.strictEqual(created.length, 1);
    const csv = fs.readFileSync(ws('.parallel-run', 'runs', created[0], 'results.csv'), 'utf8').trim().split('\n');
    assert.strictEqual(csv[0], 'file,mu,sigma,status,seconds,max_rss_mb,ll');
    assert.strictEqual(csv.length, 1 + 2 * 3 * 2, 'a row per file × mu × sigma');
    assert.ok(csv.slice(1).every((l) => /,succeeded,/.test(l)));
  });

  it('a task with "params" (a CSV table), "grid" and "call" runs in-process; a malformed table exits 2', async () => {
    const before = runDirsNow();
    assert.strictEqual(await runTask(await taskNamed('pr: call params')), 0);
    const created = [...runDirsNow()].filter((d) => !before.has(d));
    assert.strictEqual(created.length, 1);
    const dir = ws('.parallel-run', 'runs', created[0]);
    const rows = fs.readFileSync(path.join(dir, 'results.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepStrictEqual(rows.map((r) => [r.sigma, r.mu, r.label]).sort(), [['1', '0.25', 'a, b'], ['1', '0.75', 'say "hi"'], ['2', '0.25', 'a, b'], ['2', '0.75', 'say "hi"']]);
    assert.ok(rows.every((r) => typeof r.ll === 'number'));
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'));
    assert.ok(report.tasks.every((t: { mode: string }) => t.mode === 'call'));
    const again = runDirsNow();
    assert.strictEqual(await runTask(await taskNamed('pr: bad table')), 2);
    assert.deepStrictEqual([...runDirsNow()].filter((d) => !again.has(d)), [], 'nothing started');
  });

  it('bad input (a glob matching nothing) exits 2 and starts nothing', async () => {
    const before = runDirsNow();
    const code = await runTask(await taskNamed('pr: no files'));
    assert.strictEqual(code, 2);
    assert.deepStrictEqual([...runDirsNow()].filter((d) => !before.has(d)), [], 'no run directory for bad input');
  });
});
