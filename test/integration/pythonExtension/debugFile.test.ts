/**
 * "Debug This File" with the Python Debugger installed: the launch configuration handed to VS Code
 * (type `debugpy`) carries exactly the failed task's script, arguments, working directory, environment
 * (thread variables, PARALLEL_SEQ, PARALLEL_JOBSLOT) and interpreter. This launch loads a STAND-IN
 * with the Python Debugger's id and debug type (test/fixtures/debugpy-standin) that records what VS
 * Code resolved and ends the session at once: the real extension cannot be installed offline.
 */
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunReport } from '../../../extension/core/run/types';
import { Commands } from '../../../extension/shared/ids';
import { runDirOf, waitFor, ws } from '../runHelpers';

describe('Debug This File (stand-in ms-python.debugpy)', function () {
  this.timeout(120_000);

  it('starts a debugpy session with exactly the task\'s argv, cwd, environment and interpreter', async () => {
    const standin = vscode.extensions.getExtension<{ launched: vscode.DebugConfiguration[] }>('ms-python.debugpy');
    assert.ok(standin, 'the stand-in is installed');
    const { launched } = await standin.activate();
    const report = (await vscode.commands.executeCommand(Commands.runScript, {
      script: 'header.py', files: 'data/a0[1-4].txt', workers: 2, threads: 1, wait: true, openReport: false, label: 'debug: failing',
    })) as RunReport;
    assert.strictEqual(report.counts.failed, 1);
    const task = report.tasks.find((t) => t.status === 'failed')!;
    const ended = new Promise<void>((resolve) => {
      const sub = vscode.debug.onDidTerminateDebugSession(() => {
        sub.dispose();
        resolve();
      });
    });
    const out = (await vscode.commands.executeCommand(Commands.debugFile, { runDir: runDirOf(report), file: task.file })) as { via: string; started: boolean; configuration: vscode.DebugConfiguration };
    assert.strictEqual(out.via, 'debugpy');
    assert.strictEqual(out.started, true);
    await waitFor('the stand-in to see the launch', () => launched.length > 0);
    const c = launched[launched.length - 1];
    assert.strictEqual(c.type, 'debugpy');
    assert.strictEqual(c.request, 'launch');
    assert.strictEqual(c.program, ws('header.py'));
    assert.deepStrictEqual(c.args, [task.file]);
    assert.strictEqual(c.cwd, ws());
    assert.strictEqual(c.python, report.python?.executable ?? (report.command.kind === 'python' ? report.command.python : undefined));
    assert.deepStrictEqual(c.env, { ...task.threadEnv, PARALLEL_SEQ: String(task.index), PARALLEL_JOBSLOT: String(task.slot) });
    assert.strictEqual((c.env as Record<string, string>).OMP_NUM_THREADS, '1');
    assert.match(String(c.name), new RegExp(`Debug ${path.basename(task.file).replace('.', '\\.')}`));
    await ended;
  });
});
