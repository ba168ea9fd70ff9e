/**
 * The interactive "Run Script over Files…" flow. It asks only what it must: the script (skipped when
 * the command came from a Python file or one is active), the files (a glob with a live count, a folder,
 * or the explorer selection — or parameters / a table instead of files), then ONE review step that shows
 * the number of tasks and the defaults — workers, BLAS threads with the reason, warm on/off — so Enter
 * starts the run. From the review the script's arguments, parameters (values typed per name) and a table
 * of parameters are added or changed (experimentQuestions.ts). Choices are remembered per workspace, the
 * arguments and parameters per script.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { defaultThreads, logicalCores } from '../../core/threads';
import type { FileSource } from '../../core/run/types';
import type { Services } from '../services';
import { countMatches, type RunRequest } from './runService';
import { threadsReason } from './format';
import { askArguments, askParameter, CONFIRM_ABOVE, type FlowInputs, pickTable, planTasks, type TaskPlan, type TypedParameter, valuesPreview } from './experimentQuestions';
import { parseGrid } from '../../core/run/inputs';
import { pickItem } from './quickInput';

/** Remembered per workspace (context.workspaceState). */
export interface FlowDefaults {
  script?: string;
  glob?: string;
  recentGlobs?: string[];
  workers?: number;
  threads?: number;
  warm?: boolean;
  /** per script (relative path): its arguments and experiment inputs, offered again next time */
  experiments?: Record<string, FlowExperiment>;
}

/** What a script was last run with besides files. */
export interface FlowExperiment {
  args?: string;
  params?: TypedParameter[];
  /** the table, relative to the workspace folder */
  table?: string;
  /** the parameters (or table) were the only inputs: the files question is skipped */
  noFiles?: boolean;
}

const MAX_EXPERIMENTS = 30;

const STATE_DEFAULTS = 'parallelRun.flowDefaults';
const COUNT_LIMIT = 100_000;
const DEBOUNCE_MS = 200;
const SCRIPT_EXCLUDE = '**/{node_modules,.git,.venv,venv,env,__pycache__,site-packages,.parallel-run}/**';

export function loadDefaults(services: Services): FlowDefaults {
  return services.context.workspaceState.get<FlowDefaults>(STATE_DEFAULTS) ?? {};
}

export async function saveDefaults(services: Services, d: FlowDefaults): Promise<void> {
  await services.context.workspaceState.update(STATE_DEFAULTS, d);
}

export interface FlowStart {
  folder?: vscode.WorkspaceFolder;
  /** Script already known (explorer/editor title on a .py). */
  script?: vscode.Uri;
  /** Inputs already known (explorer selection). */
  files?: PickedFiles;
  /** Files only: no arguments, parameters or table (a notebook gets its own arguments). */
  filesOnly?: boolean;
}

/** The inputs chosen; `count` when known (shown in the review step, not in the run's label). */
export interface PickedFiles {
  source: FileSource;
  label: string;
  count?: number;
}

/** Runs the questions; undefined when the user cancels. */
export async function askRunRequest(services: Services, start: FlowStart): Promise<RunRequest | undefined> {
  const defaults = loadDefaults(services);
  const folder = start.folder ?? (await pickFolder(start.script));
  if (!folder) return undefined;

  let script = start.script?.fsPath ?? activePythonFile(folder) ?? existingDefaultScript(folder, defaults);
  if (!script) script = await pickScript(folder, defaults);
  if (!script) return undefined;

  const root = folder.uri.fsPath;
  const remembered = start.filesOnly ? undefined : defaults.experiments?.[path.relative(root, script)];
  const inputs: FlowInputs = {
    files: start.files,
    params: remembered?.params?.filter((p) => validParameter(p)) ?? [],
    table: remembered?.table && fs.existsSync(path.resolve(root, remembered.table)) ? path.resolve(root, remembered.table) : undefined,
    args: remembered?.args ?? '',
  };
  const experimentGiven = inputs.params.length > 0 || !!inputs.table;
  if (!inputs.files && !(remembered?.noFiles && experimentGiven)) {
    const picked = await pickFilesOr(folder, defaults, start.filesOnly ? undefined : { parametersInstead: true });
    if (!picked) return undefined;
    if (picked === 'params') {
      const p = await askParameter(undefined, undefined, inputs.params.map((x) => x.name));
      if (!p) return undefined;
      inputs.params = [...inputs.params.filter((x) => x.name !== p.name), p];
    } else if (picked === 'table') {
      const t = await pickTable(folder, inputs.table);
      if (!t) return undefined;
      inputs.table = t;
    } else if (picked !== 'none') inputs.files = picked;
  }

  const settings = services.config.get(folder.uri);
  const cores = logicalCores();
  let workers = defaults.workers || settings.workers || cores;
  let threads = defaults.threads || settings.threadsPerTask || 0; // 0 = auto from workers
  let warm = defaults.warm ?? settings.warmWorkers;

  // the review step: Enter starts; every other line changes one choice and comes back here
  let plan: TaskPlan | undefined;
  let planned = '';
  let yes = false;
  for (;;) {
    const key = JSON.stringify([script, inputs]);
    if (!plan || key !== planned) {
      plan = await planTasks(inputs, script, root);
      planned = key;
    }
    const effThreads = threads || defaultThreads(cores, workers);
    const choice = await review({ folder, script, inputs, plan, workers, threads, effThreads, warm, cores, filesOnly: !!start.filesOnly });
    if (!choice) return undefined;
    if (choice.kind === 'start') {
      if (plan.error) {
        void vscode.window.showErrorMessage(`Cannot run yet: ${plan.error}`);
        continue;
      }
      if (plan.count !== undefined && plan.count > CONFIRM_ABOVE) {
        yes = await confirmMany(plan.count);
        if (!yes) continue;
      }
      break;
    }
    if (choice.kind === 'script') script = (await pickScript(folder, defaults)) ?? script;
    else if (choice.kind === 'files') {
      const picked = await pickFilesOr(folder, defaults, inputs.params.length || inputs.table ? { noneAllowed: true } : undefined);
      if (picked === 'none') inputs.files = undefined;
      else if (picked && typeof picked === 'object') inputs.files = picked;
    } else if (choice.kind === 'param') {
      const current = inputs.params.find((p) => p.name === choice.name);
      const taken = [...inputs.params.map((p) => p.name), ...tableNames(plan)];
      const p = await askParameter(choice.name, current?.values, taken);
      if (p === null) inputs.params = inputs.params.filter((x) => x.name !== choice.name);
      else if (p) inputs.params = current ? inputs.params.map((x) => (x.name === p.name ? p : x)) : [...inputs.params, p];
    } else if (choice.kind === 'addParam') {
      const p = await askParameter(undefined, undefined, [...inputs.params.map((x) => x.name), ...tableNames(plan)]);
      if (p) inputs.params = [...inputs.params, p];
    } else if (choice.kind === 'table') {
      const t = await pickTable(folder, inputs.table);
      if (t === null) inputs.table = undefined;
      else if (t) inputs.table = t;
    } else if (choice.kind === 'args') {
      const names = [...inputs.params.map((p) => p.name), ...tableNames(plan)];
      inputs.args = (await askArguments(inputs.args, script, names)) ?? inputs.args;
    } else if (choice.kind === 'workers') workers = (await askNumber('Workers: tasks run at the same time (one process each)', workers, 1, `This machine has ${cores} logical cores.`)) ?? workers;
    else if (choice.kind === 'threads') threads = (await askNumber('BLAS/OpenMP threads per task (0 = automatic: cores ÷ workers)', threads, 0, `Automatic now: ${threadsReason(defaultThreads(cores, workers), workers, cores)}.`)) ?? threads;
    else if (choice.kind === 'warm') warm = !warm;
  }

  const files = inputs.files;
  const glob = files?.source.kind === 'globs' ? files.source.patterns.join(' ') : defaults.glob;
  const recentGlobs = glob ? [glob, ...(defaults.recentGlobs ?? []).filter((g) => g !== glob)].slice(0, 8) : defaults.recentGlobs;
  const scriptRel = path.relative(root, script);
  const experiments = { ...(defaults.experiments ?? {}) };
  if (!start.filesOnly) {
    delete experiments[scriptRel];
    const experiment: FlowExperiment = {
      ...(inputs.args.trim() ? { args: inputs.args } : {}),
      ...(inputs.params.length ? { params: inputs.params } : {}),
      ...(inputs.table ? { table: path.relative(root, inputs.table) } : {}),
      ...(!files && (inputs.params.length || inputs.table) ? { noFiles: true } : {}),
    };
    if (Object.keys(experiment).length) experiments[scriptRel] = experiment;
    for (const k of Object.keys(experiments).slice(0, Math.max(0, Object.keys(experiments).length - MAX_EXPERIMENTS))) delete experiments[k];
  }
  await saveDefaults(services, { script: scriptRel, glob, recentGlobs, workers, threads, warm, experiments });

  const label = inputsLabel(inputs, root);
  return {
    folder,
    script,
    args: plan.argv,
    files: files?.source ?? { kind: 'list', files: [] },
    ...(plan.inputs ? { inputs: plan.inputs } : {}),
    ...(yes ? { yes: true } : {}),
    filesLabel: label,
    workers,
    threads,
    warm,
  };
}

function validParameter(p: TypedParameter): boolean {
  try {
    return !!p && typeof p.name === 'string' && typeof p.values === 'string' && parseGrid(`${p.name}=${p.values}`).name === p.name;
  } catch {
    return false;
  }
}

function tableNames(plan: TaskPlan | undefined): string[] {
  return plan?.table && 'names' in plan.table ? plan.table.names : [];
}

/** "data/*.txt × mu × sigma", "params.csv", "mu × sigma": the run's label says what it went over. */
function inputsLabel(inputs: FlowInputs, root: string): string {
  const parts = [
    ...(inputs.files ? [inputs.files.label] : []),
    ...inputs.params.map((p) => p.name),
    ...(inputs.table ? [path.relative(root, inputs.table)] : []),
  ];
  return parts.join(' × ');
}

/** More than a million tasks: asked once more (the command line's --yes). */
async function confirmMany(count: number): Promise<boolean> {
  const n = count.toLocaleString('en-US');
  const go = await pickItem({
    title: `Parallel Run: ${n} tasks — start them all?`,
    placeholder: `More than ${CONFIRM_ABOVE.toLocaleString('en-US')} tasks need a confirmation (the command line's --yes): a typo in a range can ask for billions.`,
    items: [
      { label: '$(arrow-left) Back to the review', description: 'change the parameters', go: false },
      { label: `$(warning) Start all ${n} tasks`, go: true },
    ],
  });
  return go?.go === true;
}

async function pickFolder(hint?: vscode.Uri): Promise<vscode.WorkspaceFolder | undefined> {
  if (hint) {
    const f = vscode.workspace.getWorkspaceFolder(hint);
    if (f) return f;
  }
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) {
    void vscode.window.showErrorMessage('Parallel Run needs a folder: open the folder that holds your script and its input files (File > Open Folder…).');
    return undefined;
  }
  if (folders.length === 1) return folders[0];
  const active = vscode.window.activeTextEditor?.document.uri;
  const fromActive = active && vscode.workspace.getWorkspaceFolder(active);
  return fromActive ?? vscode.window.showWorkspaceFolderPick({ placeHolder: 'Workspace folder of the run' });
}

function activePythonFile(folder: vscode.WorkspaceFolder): string | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  if (!doc || doc.uri.scheme !== 'file') return undefined;
  if (doc.languageId !== 'python' && !doc.fileName.endsWith('.py')) return undefined;
  return vscode.workspace.getWorkspaceFolder(doc.uri)?.uri.toString() === folder.uri.toString() ? doc.uri.fsPath : undefined;
}

function existingDefaultScript(folder: vscode.WorkspaceFolder, d: FlowDefaults): string | undefined {
  if (!d.script) return undefined;
  const abs = path.resolve(folder.uri.fsPath, d.script);
  try {
    return fs.statSync(abs).isFile() ? abs : undefined;
  } catch {
    return undefined;
  }
}

interface PathItem extends vscode.QuickPickItem {
  path?: string;
  browse?: boolean;
}

/** Pick the script: workspace Python files (last used first) or browse. */
export async function pickScript(folder: vscode.WorkspaceFolder, d: FlowDefaults): Promise<string | undefined> {
  const qp = vscode.window.createQuickPick<PathItem>();
  qp.title = 'Parallel Run: script to run once per file';
  qp.placeholder = 'The script processes ONE file, given as sys.argv[1]';
  qp.busy = true;
  qp.show();
  const uris = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, '**/*.py'), SCRIPT_EXCLUDE, 500);
  const rel = uris.map((u) => path.relative(folder.uri.fsPath, u.fsPath)).sort();
  // the last used script first
  if (d.script && rel.includes(d.script)) {
    rel.splice(rel.indexOf(d.script), 1);
    rel.unshift(d.script);
  }
  qp.items = [
    ...rel.map((r) => ({ label: `$(file-code) ${path.basename(r)}`, description: path.dirname(r) === '.' ? '' : path.dirname(r), detail: r === d.script ? 'last used' : undefined, path: path.join(folder.uri.fsPath, r) })),
    { label: '$(folder-opened) Browse…', browse: true },
  ];
  qp.busy = false;
  const picked = await new Promise<PathItem | undefined>((resolve) => {
    qp.onDidAccept(() => resolve(qp.selectedItems[0]));
    qp.onDidHide(() => resolve(undefined));
  });
  qp.dispose();
  if (!picked) return undefined;
  if (picked.browse) {
    const res = await vscode.window.showOpenDialog({ defaultUri: folder.uri, canSelectMany: false, filters: { Python: ['py'], 'All files': ['*'] }, openLabel: 'Run this script' });
    return res?.[0]?.fsPath;
  }
  return picked.path;
}

interface FilesItem extends vscode.QuickPickItem {
  action: 'glob' | 'folder' | 'recent' | 'params' | 'table' | 'none';
  glob?: string;
}

/** What the files question may offer besides files. */
interface InsteadOfFiles {
  /** "Parameters instead of files…" and "A table of parameters instead of files…" */
  parametersInstead?: boolean;
  /** "No files" (parameters or a table are given already) */
  noneAllowed?: boolean;
}

/**
 * Pick the inputs: type a glob and see how many files it matches as you type (debounced, the previous
 * search cancelled), or choose a folder.
 */
export async function pickFiles(folder: vscode.WorkspaceFolder, d: FlowDefaults): Promise<PickedFiles | undefined> {
  const r = await pickFilesOr(folder, d, {});
  return typeof r === 'object' ? r : undefined;
}

/** pickFiles, or (when offered) parameters, a table or no files instead. */
async function pickFilesOr(folder: vscode.WorkspaceFolder, d: FlowDefaults, instead: InsteadOfFiles = {}): Promise<PickedFiles | 'params' | 'table' | 'none' | undefined> {
  const qp = vscode.window.createQuickPick<FilesItem>();
  qp.title = 'Parallel Run: input files';
  qp.placeholder = 'Glob relative to the workspace folder, e.g. data/**/*.csv — the count updates as you type';
  qp.value = d.glob ?? '';
  qp.matchOnDescription = false;
  qp.matchOnDetail = false;
  // keep our items visible whatever is typed (the value is a glob, not a filter)
  (qp as unknown as { sortByLabel: boolean }).sortByLabel = false;
  let counted: { glob: string; count: number } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let cts: vscode.CancellationTokenSource | undefined;

  const render = (status: string) => {
    const glob = qp.value.trim();
    const items: FilesItem[] = [];
    if (glob) items.push({ label: glob, description: status, action: 'glob', glob, alwaysShow: true });
    items.push({ label: '$(folder) Choose a folder…', description: 'every file in it, recursively', action: 'folder', alwaysShow: true });
    for (const g of d.recentGlobs ?? []) if (g !== glob) items.push({ label: `$(history) ${g}`, description: 'recent', action: 'recent', glob: g, alwaysShow: true });
    if (instead.noneAllowed) items.push({ label: '$(close) No files', description: 'the parameters are the inputs', action: 'none', alwaysShow: true });
    if (instead.parametersInstead) {
      items.push({ label: '$(symbol-variable) Parameters instead of files…', description: 'values typed per name: a list or a range', action: 'params', alwaysShow: true });
      items.push({ label: '$(table) A table of parameters instead of files…', description: 'CSV/TSV with a header line', action: 'table', alwaysShow: true });
    }
    qp.items = items;
    if (glob) qp.activeItems = [items[0]];
  };
  const recount = () => {
    const glob = qp.value.trim();
    cts?.cancel();
    cts?.dispose();
    cts = undefined;
    if (timer) clearTimeout(timer);
    if (!glob) {
      counted = undefined;
      qp.busy = false;
      render('');
      return;
    }
    render('counting…');
    qp.busy = true;
    timer = setTimeout(() => {
      const mine = new vscode.CancellationTokenSource();
      cts = mine;
      countMatches(folder, [glob], COUNT_LIMIT + 1, mine.token).then(
        (n) => {
          if (mine.token.isCancellationRequested || qp.value.trim() !== glob) return;
          counted = { glob, count: n };
          qp.busy = false;
          render(n === 0 ? '$(warning) no files match' : `$(check) ${n > COUNT_LIMIT ? `more than ${COUNT_LIMIT}` : n} file${n === 1 ? '' : 's'}`);
        },
        () => {
          if (!mine.token.isCancellationRequested) qp.busy = false;
        },
      );
    }, DEBOUNCE_MS);
  };
  qp.onDidChangeValue(recount);
  recount();
  qp.show();

  const result = await new Promise<PickedFiles | 'folder' | 'params' | 'table' | 'none' | undefined>((resolve) => {
    qp.onDidAccept(() => {
      const item = qp.selectedItems[0] ?? qp.activeItems[0];
      if (!item) return;
      if (item.action === 'folder' || item.action === 'params' || item.action === 'table' || item.action === 'none') return resolve(item.action);
      if (item.action === 'recent' && item.glob) {
        qp.value = item.glob; // show its count first; a second Enter accepts
        recount();
        return;
      }
      const glob = item.glob ?? qp.value.trim();
      if (!counted || counted.glob !== glob) return; // still counting: wait for the number
      if (counted.count === 0) {
        render('$(warning) no files match — change the pattern');
        return;
      }
      resolve({ source: { kind: 'globs', patterns: [glob], cwd: folder.uri.fsPath }, label: glob, count: counted.count });
    });
    qp.onDidHide(() => resolve(undefined));
  });
  if (timer) clearTimeout(timer);
  cts?.cancel();
  qp.dispose();
  if (result !== 'folder') return result;
  const res = await vscode.window.showOpenDialog({ defaultUri: folder.uri, canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Run over this folder' });
  const dir = res?.[0];
  if (!dir) return undefined;
  const rel = path.relative(folder.uri.fsPath, dir.fsPath) || '.';
  return { source: { kind: 'folder', path: dir.fsPath, recursive: true }, label: `${rel}/` };
}

type ReviewChoice =
  | { kind: 'start' | 'script' | 'files' | 'addParam' | 'table' | 'args' | 'workers' | 'threads' | 'warm' }
  | { kind: 'param'; name: string };
interface ReviewItem extends vscode.QuickPickItem {
  choice: ReviewChoice;
}

interface ReviewState {
  folder: vscode.WorkspaceFolder;
  script: string;
  inputs: FlowInputs;
  plan: TaskPlan;
  workers: number;
  threads: number;
  effThreads: number;
  warm: boolean;
  cores: number;
  filesOnly: boolean;
}

function plural(n: number, one: string): string {
  return `${n.toLocaleString('en-US')} ${one}${n === 1 ? '' : 's'}`;
}

/** "{sigma} and {scale} have no values yet…": the arguments name inputs nothing gives. */
function missingText(names: string[]): string {
  const list = names.map((n) => `{${n}}`);
  const named = list.length === 1 ? list[0] : `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
  return `The arguments use ${named}, which ${list.length === 1 ? 'has' : 'have'} no values yet: pick ${list.length === 1 ? 'its line' : 'their lines'} below to type them, add a table with ${list.length === 1 ? 'that column' : 'those columns'}, or fix the arguments.`;
}

/** Words packed into lines of at most `width` characters (a longer word gets a line of its own). */
function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The review: what the run will be (tasks, first command), each choice on a line that changes it. */
async function review(r: ReviewState): Promise<ReviewChoice | undefined> {
  const { folder, inputs, plan } = r;
  const root = folder.uri.fsPath;
  const tasks = plan.error
    ? `$(error) ${plan.error}`
    : plan.count === undefined
      ? 'one task per file'
      : `${plan.count > CONFIRM_ABOVE ? '$(warning) ' : ''}${plural(plan.count, 'task')}`;
  const start: ReviewItem = {
    label: plan.error ? '$(circle-slash) Cannot start yet' : '$(play) Start run',
    description: plan.error ? undefined : `${tasks} · ${r.workers} × ${r.effThreads} thread${r.effThreads === 1 ? '' : 's'}${r.warm ? ' · warm' : ''}`,
    detail: plan.error || plan.firstTask === undefined ? undefined : `${plan.count === undefined || plan.count > 1 ? 'First task' : 'Task'}: ${plan.firstTask}`,
    choice: { kind: 'start' },
  };
  // the problem in full, a few short lines under it (a quick pick clips a long line)
  const problem: ReviewItem[] = plan.error
    ? wrapText(plan.missing.length ? missingText(plan.missing) : plan.error, 78).map((line, i) => ({ label: `${i === 0 ? '$(error)' : '$(blank)'} ${line}`, choice: { kind: 'start' } }))
    : [];
  const filesText = inputs.files
    ? inputs.files.count !== undefined ? `${inputs.files.label} (${plural(inputs.files.count, 'file')})` : inputs.files.label
    : 'none';
  const items: ReviewItem[] = [
    start,
    ...problem,
    { label: '', kind: vscode.QuickPickItemKind.Separator, choice: { kind: 'start' } },
    { label: `$(file-code) Script: ${path.relative(root, r.script)}`, choice: { kind: 'script' } },
    { label: `$(files) Files: ${filesText}`, description: inputs.files ? undefined : r.filesOnly ? undefined : 'the parameters are the inputs', choice: { kind: 'files' } },
  ];
  if (!r.filesOnly) {
    for (const p of inputs.params) {
      let desc: string;
      try {
        desc = valuesPreview(parseGrid(`${p.name}=${p.values}`).values);
      } catch (e) {
        desc = `$(error) ${(e as Error).message}`;
      }
      items.push({ label: `$(symbol-variable) ${p.name} = ${p.values}`, description: desc, choice: { kind: 'param', name: p.name } });
    }
    for (const name of plan.missing) {
      items.push({ label: `$(warning) {${name}} has no values`, description: 'the arguments use it: pick to type its values', choice: { kind: 'param', name } });
    }
    items.push({ label: '$(add) Add a parameter…', description: 'a list (1, 2, 5) or a range (0:1:0.1)', choice: { kind: 'addParam' } });
    if (inputs.table) {
      const t = plan.table;
      const desc = !t ? '' : 'error' in t ? (plan.error ? '$(error) not read: see above' : `$(error) ${t.error}`) : `${plural(t.rows, 'row')} × ${t.names.join(', ')}`;
      items.push({ label: `$(table) Table: ${path.relative(root, inputs.table)}`, description: desc, choice: { kind: 'table' } });
    } else {
      items.push({ label: '$(table) Add a table of parameters…', description: 'CSV/TSV with a header line: one task per row', choice: { kind: 'table' } });
    }
    items.push({
      label: `$(terminal) Arguments: ${inputs.args.trim() || 'none'}`,
      description: inputs.args.trim() ? undefined : 'e.g. --mu {mu} --sigma {sigma}',
      choice: { kind: 'args' },
    });
  }
  items.push(
    { label: `$(server-process) Workers: ${r.workers}`, description: r.workers === r.cores ? `one per logical core (${r.cores})` : `${r.cores} logical cores`, choice: { kind: 'workers' } },
    { label: `$(symbol-numeric) BLAS threads per task: ${r.effThreads}${r.threads ? '' : ' (automatic)'}`, description: threadsReason(r.effThreads, r.workers, r.cores), choice: { kind: 'threads' } },
    { label: `$(flame) Warm workers: ${r.warm ? 'on' : 'off'}`, description: r.warm ? 'one warm Python per worker forks per task' : 'a fresh Python per task', choice: { kind: 'warm' } },
  );
  const pick = await pickItem({ title: 'Parallel Run: ready — Enter starts', placeholder: 'Pick a line to change it', items, active: start });
  return pick?.choice;
}

async function askNumber(prompt: string, value: number, min: number, hint: string): Promise<number | undefined> {
  const v = await vscode.window.showInputBox({
    prompt: `${prompt}. ${hint}`,
    value: String(value),
    validateInput: (s) => (/^\d+$/.test(s.trim()) && Number(s) >= min && Number(s) <= 4096 ? undefined : `A whole number from ${min} to 4096.`),
  });
  return v === undefined ? undefined : Number(v.trim());
}
