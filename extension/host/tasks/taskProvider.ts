/**
 * tasks.json support: task type `parallel-run` (schema in package.json#taskDefinitions). A task runs
 * the batch engine in a CustomExecution; its output goes to a pseudoterminal and its exit code says
 * how it went: 0 every file succeeded, 1 some failed (or the run was cancelled), 2 bad input.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { FileSource, InputsSpec, RunHandle, RunReport } from '../../core/run/types';
import { TASK_TYPE } from '../../shared/ids';
import { figuresLine } from '../../shared/figures';
import { messageOf } from '../config';
import type { Services } from '../services';
import type { RunKnobs, RunService } from '../run/runService';
import { formatDuration, lastLine, RUN_STATUS_TEXT, TASK_STATUS_SYMBOL } from '../run/format';

/** Mirrors package.json#contributes.taskDefinitions[parallel-run]. */
export interface ParallelRunTaskDefinition extends vscode.TaskDefinition, RunKnobs {
  type: typeof TASK_TYPE;
  script: string;
  /** globs of input files; may be left out when `grid` or `params` give the inputs */
  files?: string[];
  /** named axes: a list of values, or a range text "START:STOP:STEP" (or "a,b,c") */
  grid?: Record<string, unknown>;
  /** a parameter table (CSV/TSV with a header), relative to the workspace folder */
  params?: string;
  /** call this function of the script per task, in-process (--call) */
  call?: string;
  resume?: boolean;
}

/** What the task runs over, for its name and log: "data/*.csv × mu, sigma". */
function inputsLabel(def: ParallelRunTaskDefinition): string {
  const parts = [...(def.files ?? []), ...Object.keys(def.grid ?? {}), ...(def.params ? [def.params] : [])];
  return parts.join(' × ');
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

export function registerTaskProvider(context: vscode.ExtensionContext, services: Services, runs: RunService): void {
  context.subscriptions.push(
    vscode.tasks.registerTaskProvider(TASK_TYPE, {
      provideTasks: () => {
        // offer the last run as a ready-made task ("Tasks: Run Task" > parallel-run), to save in tasks.json
        const last = runs.lastRequest();
        const folder = last && vscode.workspace.workspaceFolders?.find((f) => f.uri.fsPath === last.folder);
        if (!last || !folder || last.files.kind !== 'globs') return [];
        const def: ParallelRunTaskDefinition = {
          type: TASK_TYPE,
          script: path.relative(folder.uri.fsPath, last.script),
          files: last.files.patterns,
          ...(last.workers ? { workers: last.workers } : {}),
          ...(last.threads ? { threads: last.threads } : {}),
          ...(last.warm ? { warm: true } : {}),
        };
        return [makeTask(def, folder, services, runs, `${def.script} over ${inputsLabel(def)}`)];
      },
      resolveTask: (task) => {
        const def = task.definition as ParallelRunTaskDefinition;
        const scope = task.scope;
        const folder = scope && typeof scope === 'object' ? (scope as vscode.WorkspaceFolder) : vscode.workspace.workspaceFolders?.[0];
        if (!folder) return undefined;
        // the same definition object must be kept (VS Code matches the resolved task to tasks.json by it)
        return makeTask(def, folder, services, runs, task.name);
      },
    }),
  );
}

function makeTask(def: ParallelRunTaskDefinition, folder: vscode.WorkspaceFolder, services: Services, runs: RunService, name: string): vscode.Task {
  const task = new vscode.Task(
    def, folder, name, 'Parallel Run',
    new vscode.CustomExecution(async () => new RunTerminal(def, folder, services, runs)),
    [],
  );
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, clear: true };
  task.detail = `${def.script} over ${inputsLabel(def)}`;
  return task;
}

/** Problems with a definition, one message naming the property and the fix. */
export function checkDefinition(def: Partial<ParallelRunTaskDefinition>): string | undefined {
  if (typeof def.script !== 'string' || !def.script.trim()) return 'the task has no "script": set it to the Python script to run once per file (relative to the workspace folder).';
  const experiment = def.grid !== undefined || def.params !== undefined;
  if ((def.files !== undefined || !experiment) && (!Array.isArray(def.files) || def.files.length === 0 || def.files.some((f) => typeof f !== 'string' || !f.trim()))) {
    return 'the task\'s "files" must be a list of globs relative to the workspace folder, e.g. ["data/**/*.csv"] (or give "grid" / "params" to run over parameters).';
  }
  if (def.grid !== undefined && (typeof def.grid !== 'object' || def.grid === null || Array.isArray(def.grid) || Object.keys(def.grid).length === 0)) {
    return 'the task\'s "grid" must be an object of named axes, e.g. {"mu": "0:1:0.1", "sigma": [1, 2, 5]}.';
  }
  if (def.params !== undefined && (typeof def.params !== 'string' || !def.params.trim())) return 'the task\'s "params" must be the path of a CSV/TSV table with a header line, e.g. "params.csv".';
  if (def.call !== undefined && (typeof def.call !== 'string' || !/^[A-Za-z_]\w*$/.test(def.call))) return `the task's "call" is ${JSON.stringify(def.call)}; give the name of a top-level function of the script.`;
  for (const k of ['workers', 'threads', 'retries'] as const) {
    const v = def[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) return `the task's "${k}" is ${JSON.stringify(v)}; use a whole number ≥ 0 (0 = automatic).`;
  }
  if (def.timeout !== undefined && (typeof def.timeout !== 'number' || !(def.timeout >= 0))) return `the task's "timeout" is ${JSON.stringify(def.timeout)}; use seconds ≥ 0 (0 = none).`;
  return undefined;
}

class RunTerminal implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  private handle: RunHandle | undefined;
  private closed = false;

  constructor(
    private readonly def: ParallelRunTaskDefinition,
    private readonly folder: vscode.WorkspaceFolder,
    private readonly services: Services,
    private readonly runs: RunService,
  ) {}

  open(): void {
    void this.run();
  }

  close(): void {
    // the user killed the task (or closed its terminal): tear the run down, keep the journal
    this.handle?.cancel();
  }

  handleInput(data: string): void {
    if (data === '\x03') this.handle?.cancel(); // Ctrl+C
  }

  private line(s = ''): void {
    this.writeEmitter.fire(s.replace(/\r?\n/g, '\r\n') + '\r\n');
  }

  private exit(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.closeEmitter.fire(code);
  }

  private async run(): Promise<void> {
    const problem = checkDefinition(this.def);
    if (problem) {
      this.line(`\x1b[31mParallel Run: ${problem}\x1b[0m`);
      return this.exit(EXIT_BAD_INPUT);
    }
    const root = this.folder.uri.fsPath;
    const globs = this.def.files;
    const files: FileSource = globs ? { kind: 'globs', patterns: globs, cwd: root } : { kind: 'list', files: [] };
    const over = inputsLabel(this.def);
    try {
      // the input parsers (tables, grids) load with the first task that runs
      const { experimentInputs } = await import('../../core/run/inputs');
      const inputs: InputsSpec | undefined = experimentInputs(globs ? files : undefined, this.def.grid, this.def.params ? [path.resolve(root, this.def.params)] : []);
      this.handle = await this.runs.start({
        folder: this.folder,
        script: path.resolve(root, this.def.script),
        args: this.def.args ?? [],
        files,
        ...(inputs ? { inputs } : {}),
        ...(this.def.call ? { call: this.def.call } : {}),
        filesLabel: over,
        workers: this.def.workers ?? 0,
        threads: this.def.threads ?? 0,
        warm: this.def.warm,
        timeoutSec: this.def.timeout,
        retries: this.def.retries,
        resume: this.def.resume,
        // resume: the same definition keeps one run directory, so a re-started task picks up where it stopped
        outDir: this.def.resume ? path.join(this.runs.runsDir(this.folder), `task-${taskSlug(this.def)}`) : undefined,
        label: `task: ${this.def.script} over ${over}`,
        progress: 'none',
      });
    } catch (err) {
      this.line(`\x1b[31m${messageOf(err)}\x1b[0m`);
      return this.exit(EXIT_BAD_INPUT);
    }
    const h = this.handle;
    this.line(`Parallel Run: ${this.def.script} over ${over} → ${h.outDir}`);
    h.onEvent((e) => {
      if (e.type === 'runStarted') this.line(`${e.workers} workers × ${e.threads} BLAS threads${e.resumeSkipped ? `; ${e.resumeSkipped} files already done` : ''}`);
      else if (e.type === 'taskFinished') {
        const r = e.record;
        const ok = r.status === 'succeeded' || r.status === 'skipped';
        const color = ok ? '\x1b[32m' : '\x1b[31m';
        const why = ok ? '' : ` ${r.status}${r.exitCode !== null ? ` exit ${r.exitCode}` : ''}${lastLine(r.stderrTail) ? `: ${lastLine(r.stderrTail)}` : ''}`;
        this.line(`${color}${TASK_STATUS_SYMBOL[r.status]}\x1b[0m ${r.file} ${formatDuration(r.wallMs)}${why}`);
      } else if (e.type === 'runCancelled') this.line('\x1b[33mcancelling…\x1b[0m');
    });
    let report: RunReport;
    try {
      report = await h.done;
    } catch (err) {
      this.line(`\x1b[31m${messageOf(err)}\x1b[0m`);
      return this.exit(EXIT_FAILED);
    }
    const c = report.counts;
    this.line();
    this.line(`${RUN_STATUS_TEXT[report.status]}: ${c.succeeded} succeeded, ${c.failed + c.timedOut} failed, ${c.skipped} skipped in ${formatDuration(report.wallMs)}; ${figuresLine(report)}`);
    this.line(`report: ${path.join(h.outDir, 'report.json')}`);
    this.exit(report.status === 'succeeded' ? EXIT_OK : EXIT_FAILED);
    this.services.log.info(`[${report.runId}] task finished with exit ${report.status === 'succeeded' ? EXIT_OK : EXIT_FAILED}`);
  }
}

function taskSlug(def: ParallelRunTaskDefinition): string {
  return `${def.script}-${inputsLabel(def)}`.replace(/[^\w.-]+/g, '_').slice(0, 60);
}
