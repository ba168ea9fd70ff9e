/**
 * The services the composition root builds once and hands to every feature's register().
 * Features add what they publish here (optional fields) instead of reaching into each other.
 */
import * as vscode from 'vscode';
import type { BlasInspection } from '../core/python/blasProbe';
import type { Config } from './config';
import type { FailuresApi } from './failures/register';
import type { EditorApi } from './editor/register';
import type { MeasureApi } from './measure/register';
import type { MonitorApi } from './monitor/register';
import type { InterpreterService } from './python/interpreter';
import type { ReportPanelApi } from './report';
import type { RunsApi } from './run/runService';
import type { RunsTreeProvider } from './runsView/runsTree';
import type { SlurmApi } from './slurm/register';

export interface Services {
  readonly context: vscode.ExtensionContext;
  readonly config: Config;
  readonly log: vscode.LogOutputChannel;
  /** Absolute path of dist/ (bundled worker scripts live in dist/workers). */
  readonly distDir: string;
  /** Absolute path of media/ (python helpers in media/python). */
  readonly mediaDir: string;
  /** Promises that must settle before deactivate() returns (pools terminated, children killed). */
  readonly shutdownHooks: Array<() => Promise<void>>;
  /**
   * The last BLAS inspection of the workspace's interpreter (core BlasInspection: `current` = the probe
   * in VS Code's environment — vendor, version, currentThreads, python.executable —, `defaultThreads` =
   * threads BLAS uses with no thread variable set). Set by "Inspect BLAS Threads" (host/measure) and by
   * the editor feature's one background probe when a Python file with a pool is opened (trusted
   * workspaces only). Read by the pool code lenses and the report. Undefined until one of them ran.
   */
  blasInfo?: BlasInspection;

  // ---- what each feature publishes: its register() returns it and extension.ts sets it here, in
  // this order. A feature uses another's API when a command or event runs, never during its own
  // register(), so the order of registration is not a contract; a missing feature is `undefined`.
  monitor?: MonitorApi;
  python?: InterpreterService;
  runs?: RunsApi;
  runsTree?: RunsTreeProvider;
  failures?: FailuresApi;
  measure?: MeasureApi;
  reportPanel?: ReportPanelApi;
  slurm?: SlurmApi;
  editorAnalysis?: EditorApi;
}

/** The interpreter service, for features that resolve Python (it comes with the run feature). */
export function interpreters(services: Services): InterpreterService {
  if (!services.python) throw new Error('the Python interpreter service is not available (the run feature did not start; see the Parallel Run log).');
  return services.python;
}
