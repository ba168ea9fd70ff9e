/**
 * A resume keeps the run as it was defined: the limits written in run.json (timeout in percent of the
 * median, memory to keep free) apply again whatever the settings say at the time of the resume.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunReport } from '../../extension/core/run/types';
import { Commands } from '../../extension/shared/ids';
import { runDirOf, services, setSetting } from './runHelpers';

/** The machine's memory in GB, rounded down to 1/1000: more than is ever available, not more than there is. */
const ALL_MEMORY_GB = Math.floor((os.totalmem() / 2 ** 30) * 1000) / 1000;

const NO_REPORT = { openReport: false };

function limitsOf(runDir: string): [unknown, unknown] {
  const def = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8'));
  return [def.memFreeBytes, def.timeoutPercent];
}

describe('resume keeps the run definition', function () {
  this.timeout(120_000);

  before(async () => {
    await services();
  });

  it('Resume Last Run keeps the memory gate and the relative timeout of the run, not the settings now', async () => {
    await setSetting('memFreeGB', ALL_MEMORY_GB); // (the old, deprecated name: still read) never available while anything runs
    await setSetting('timeoutPercentOfMedian', 300);
    let first: RunReport;
    try {
      first = (await vscode.commands.executeCommand(Commands.runScript, {
        script: 'fail_some.py', files: 'data/a0[1-4].txt', workers: 2, wait: true, ...NO_REPORT,
      })) as RunReport;
    } finally {
      await setSetting('memFreeGB', undefined);
      await setSetting('timeoutPercentOfMedian', undefined);
    }
    assert.strictEqual(first.counts.failed, 1, JSON.stringify(first.counts));
    const runDir = runDirOf(first);
    assert.deepStrictEqual(limitsOf(runDir), [Math.round(ALL_MEMORY_GB * 2 ** 30), 300]);

    // settings are back to their defaults (no gate, no relative timeout); the resume still has both
    const resumed = (await vscode.commands.executeCommand(Commands.resumeLastRun, { runDir, wait: true, ...NO_REPORT })) as RunReport;
    assert.strictEqual(resumed.runId, first.runId);
    assert.strictEqual(resumed.counts.skipped, 3);
    assert.deepStrictEqual(limitsOf(runDir), [Math.round(ALL_MEMORY_GB * 2 ** 30), 300]);
  });
});
