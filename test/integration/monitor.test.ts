/**
 * The resource monitor in the real extension host: the status bar item's text, tooltip, warning
 * colour and command; `· n/m busy` and the run's processes during a run; the Resource Monitor panel
 * opening and drawing live samples.
 */
import * as assert from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as vscode from 'vscode';
import type { RunHandle, RunReport } from '../../extension/core/run/types';
import type { MonitorApi, MonitorTestHooks } from '../../extension/host/monitor/register';
import { CONFIG_SECTION, Commands, WEBVIEW_MONITOR } from '../../extension/shared/ids';
import { services, sleep, waitFor } from './runHelpers';

async function monitor(): Promise<MonitorApi & MonitorTestHooks> {
  const api = await services();
  const m = api.monitor as (MonitorApi & MonitorTestHooks) | undefined;
  assert.ok(m, 'services.monitor is published');
  return m;
}

const STATUS = /^\$\(pulse\) CPU \d{1,3}% · RAM \d+(\.\d)?\/\d+(\.\d)? GB$/;

describe('resource monitor', function () {
  this.timeout(60_000);
  const children: ChildProcess[] = [];

  afterEach(async () => {
    for (const c of children.splice(0)) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
    const m = await monitor();
    m.setActiveRun(undefined);
    await vscode.workspace.getConfiguration(CONFIG_SECTION).update('monitor.memoryWarningPercent', undefined, vscode.ConfigurationTarget.Global);
  });

  it('shows CPU and RAM in the status bar, with per-core bars, load and memory in the tooltip', async () => {
    const m = await monitor();
    m.refresh();
    const s = m.statusBar();
    assert.strictEqual(s.visible, true);
    assert.match(s.text, STATUS);
    assert.strictEqual(s.command, Commands.showMonitor);
    assert.strictEqual(s.warning, false, 'this machine is far below 90 % memory');
    assert.match(s.tooltip, /^\*\*CPU \d+%\*\* of 2 cores · load [\d.]+ [\d.]+ [\d.]+/);
    assert.match(s.tooltip, /cpu0 [█░]{20} +\d+%/);
    assert.match(s.tooltip, /cpu1 [█░]{20} +\d+%/);
    assert.match(s.tooltip, /\*\*RAM [\d.]+ of \d+ GB\*\* \(\d+%\) · (no swap|swap)/);
    assert.match(s.tooltip, /Click to open the Resource Monitor\.$/);
  });

  it('turns to the warning colour past parallelRun.monitor.memoryWarningPercent, with the reason', async () => {
    const m = await monitor();
    await vscode.workspace.getConfiguration(CONFIG_SECTION).update('monitor.memoryWarningPercent', 1, vscode.ConfigurationTarget.Global);
    await waitFor('the new threshold', () => m.service.memoryWarningPercent === 1);
    m.refresh();
    const s = m.statusBar();
    assert.strictEqual(s.warning, true);
    assert.match(s.tooltip, /\$\(warning\) Memory \d+% used of (RAM|the memory limit) \(warning at 1%\)/);
    await vscode.workspace.getConfiguration(CONFIG_SECTION).update('monitor.memoryWarningPercent', undefined, vscode.ConfigurationTarget.Global);
    await waitFor('the default threshold', () => m.service.memoryWarningPercent === 90);
    m.refresh();
    assert.strictEqual(m.statusBar().warning, false);
  });

  it('parallelRun.monitor.enabled = false hides the item and stops sampling when nothing else needs it', async () => {
    const m = await monitor();
    const cfg = () => vscode.workspace.getConfiguration(CONFIG_SECTION);
    try {
      await cfg().update('monitor.enabled', false, vscode.ConfigurationTarget.Global);
      await waitFor('the item to hide', () => !m.statusBar().visible);
      assert.strictEqual(m.service.sampling, false, 'no consumer left: the sampler is paused');
      assert.strictEqual(m.service.sampler.running, false);
    } finally {
      await cfg().update('monitor.enabled', undefined, vscode.ConfigurationTarget.Global);
    }
    await waitFor('the item to come back', () => m.statusBar().visible);
    assert.match(m.statusBar().text, STATUS);
  });

  it('during a run shows busy workers and the run processes with CPU % and RSS', async () => {
    const m = await monitor();
    const busy = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore', detached: true });
    children.push(busy);
    m.setActiveRun({ busy: 1, workers: 2, pids: () => [busy.pid!] });
    assert.match(m.statusBar().text, / · 1\/2 busy$/, 'the busy count shows at once');
    await sleep(1200);
    m.refresh();
    const s = m.statusBar();
    assert.match(s.text, /^\$\(pulse\) CPU \d+% · RAM [\d.]+\/[\d.]+ GB · 1\/2 busy$/);
    assert.match(s.tooltip, /\*\*Run: 1\/2 workers busy\*\*/);
    const row = new RegExp(`^ *${busy.pid} +(\\d+\\.\\d) +\\d+ MB  node$`, 'm').exec(s.tooltip);
    assert.ok(row, `process row for ${busy.pid} in:\n${s.tooltip}`);
    // measured, not zero (other processes may share the two cores while the tests run)
    assert.ok(Number(row[1]) > 5, `busy loop CPU ${row[1]} %`);
    m.setActiveRun(undefined);
    assert.match(m.statusBar().text, STATUS);
  });

  it('a real run reports its busy workers to the status bar', async () => {
    const m = await monitor();
    const handle = (await vscode.commands.executeCommand(Commands.runScript, {
      script: 'slow.py', files: 'data/*.txt', args: ['20'], workers: 2, openReport: false,
    })) as RunHandle;
    try {
      await waitFor('busy workers in the status bar', () => / · 2\/2 busy$/.test(m.statusBar().text));
      // while the FIRST two tasks run (20 s each), not once they end: the run service must not miss
      // the engine's first events
      assert.strictEqual(handle.report().tasks.length, 0, 'the busy count showed only after tasks had finished');
      // the run's task processes (python running slow.py) with CPU % and RSS in the tooltip
      await waitFor('task processes in the tooltip', async () => {
        await sleep(300);
        m.refresh();
        return /^ *\d+ +\d+\.\d +\d+ (KB|MB)  python/m.test(m.statusBar().tooltip);
      });
    } finally {
      (await vscode.commands.executeCommand(Commands.cancelRun, { runId: handle.runId })) as RunReport;
    }
    await waitFor('the run to leave the status bar', () => STATUS.test(m.statusBar().text));
  });

  it('the monitor command opens the Resource Monitor panel and it draws live samples', async () => {
    const m = await monitor();
    await vscode.commands.executeCommand(Commands.showMonitor);
    const tab = await waitFor('the monitor tab', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(WEBVIEW_MONITOR)));
    assert.strictEqual(tab.label, 'Resource Monitor');
    const first = await waitFor('a first render', () => m.panel().rendered);
    assert.strictEqual(first.cores, 2);
    assert.match(first.headline, /^CPU \d+% · RAM [\d.]+\/[\d.]+ GB$/);
    assert.ok(first.points >= 1);
    // while the panel is visible it keeps sampling; each new sample is drawn
    const before = m.panel().rendered!.points;
    m.refresh();
    await waitFor('a further point', () => (m.panel().rendered?.points ?? 0) > before);
    assert.strictEqual(m.panel().open, true);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    await waitFor('the panel to close', () => !m.panel().open);
  });
});
