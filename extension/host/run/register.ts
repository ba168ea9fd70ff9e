/**
 * The run feature: interpreter resolution, the run service, the run commands, the Runs view and the
 * `parallel-run` task type. Publishes on services:
 *   python   InterpreterService   (resolve(folder) -> real executable)
 *   runs     RunsApi              (start, active, onDidChange, runsDir)
 *   runsTree RunsTreeProvider     (the Runs view's data, for tests)
 */
import * as vscode from 'vscode';
import { ContextKeys } from '../../shared/ids';
import type { Services } from '../services';
import { InterpreterService } from '../python/interpreter';
import { registerRunsView } from '../runsView/runsTree';
import { registerTaskProvider } from '../tasks/taskProvider';
import { registerRunCommands } from './commands';
import { RunService } from './runService';

export function register(context: vscode.ExtensionContext, services: Services): void {
  const python = new InterpreterService(services);
  const runs = new RunService(services, python);
  context.subscriptions.push(python, runs);
  services.python = python;
  services.runs = runs;

  const tree = registerRunsView(context, services, runs);
  services.runsTree = tree;
  registerRunCommands(context, services, runs, () => tree.refresh());
  registerTaskProvider(context, services, runs);

  void vscode.commands.executeCommand('setContext', ContextKeys.runActive, false);
  // window closing / extension disabled mid-run: kill every process tree; the journal stays resumable
  services.shutdownHooks.push(async function cancelActiveRuns() {
    await runs.cancelAll();
  });
}
