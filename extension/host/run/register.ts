/**
 * The run feature: interpreter resolution, the run service, the run commands, the Runs view and the
 * `parallel-run` task type. Returns (extension.ts publishes them on services):
 *   python   InterpreterService   (resolve(folder) -> real executable)
 *   runs     RunsApi              (start, active, onDidChange, runsDir)
 *   runsTree RunsTreeProvider     (the Runs view's data, for tests)
 *   failures FailuresApi          (latest run per folder, Problems, Explorer marks)
 */
import * as vscode from 'vscode';
import { Commands, ContextKeys } from '../../shared/ids';
import { lazyTable, registerCommands } from '../commands';
import { history } from '../history';
import type { Services } from '../services';
import { InterpreterService } from '../python/interpreter';
import { register as registerFailures, type FailuresApi } from '../failures/register';
import { registerRunsView, type RunsTreeProvider } from '../runsView/runsTree';
import { registerTaskProvider } from '../tasks/taskProvider';
import { RunService } from './runService';

const RUN_COMMANDS = [
  Commands.runScript, Commands.runOverSelection, Commands.runAgain, Commands.cancelRun, Commands.resumeLastRun,
  Commands.rerunFailed, Commands.rerunFiles, Commands.showReport, Commands.openRunLogs, Commands.openTaskLog,
  Commands.deleteRun, Commands.refreshRuns,
] as const;

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
  const refresh = () => {
    tree.refresh();
    void failures.latest.refresh();
  };
  // the handlers (and the questions they ask) load on the first run command
  registerCommands(context, services, lazyTable(RUN_COMMANDS, () => history().then(() => import(/* webpackChunkName: "runCommands" */ './commands')).then((m) => m.runCommandHandlers(services, runs, refresh))));
  registerTaskProvider(context, services, runs);

  void vscode.commands.executeCommand('setContext', ContextKeys.runActive, false);
  // window closing / extension disabled mid-run: kill every process tree; the journal stays resumable
  services.shutdownHooks.push(async function cancelActiveRuns() {
    await runs.cancelAll();
  });
  return { python, runs, runsTree: tree, failures };
}
