/**
 * The run feature: interpreter resolution, the run service, the run commands, the Runs view and the
 * `parallel-run` task type. Returns (extension.ts publishes them on services):
 *   python   InterpreterService   (resolve(folder) -> real executable)
 *   runs     RunsApi              (start, active, onDidChange, runsDir)
 *   runsTree RunsTreeProvider     (the Runs view's data, for tests)
 *   failures FailuresApi          (latest run per folder, Problems, Explorer marks)
 */
import * as vscode from 'vscode';
import { ContextKeys } from '../../shared/ids';
import type { Services } from '../services';
import { InterpreterService } from '../python/interpreter';
import { register as registerFailures, type FailuresApi } from '../failures/register';
import { registerRunsView, type RunsTreeProvider } from '../runsView/runsTree';
import { registerTaskProvider } from '../tasks/taskProvider';
import { registerRunCommands } from './commands';
import { RunService } from './runService';

/** What the run feature publishes (see Services). */
export interface RunFeature {
  python: InterpreterService;
  runs: RunService;
  runsTree: RunsTreeProvider;
  failures: FailuresApi;
}

export function register(context: vscode.ExtensionContext, services: Services): RunFeature {
  const python = new InterpreterService(services);
  const runs = new RunService(services, python);
  context.subscriptions.push(python, runs);

  const tree = registerRunsView(context, services, runs);
  const failures = registerFailures(context, services, runs);
  registerRunCommands(context, services, runs, () => {
    tree.refresh();
    void failures.latest.refresh();
  });
  registerTaskProvider(context, services, runs);

  void vscode.commands.executeCommand('setContext', ContextKeys.runActive, false);
  // window closing / extension disabled mid-run: kill every process tree; the journal stays resumable
  services.shutdownHooks.push(async function cancelActiveRuns() {
    await runs.cancelAll();
  });
  return { python, runs, runsTree: tree, failures };
}
