/**
 * The interactive "Run Script over Files…" flow. It asks only what it must: the script (skipped when
 * the command came from a Python file or one is active), the files (a glob with a live count, a folder,
 * or the explorer selection), then ONE review step that shows the defaults — workers, BLAS threads with
 * the reason, warm on/off — so Enter starts the run. Choices are remembered per workspace.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { defaultThreads, logicalCores } from '../../core/threads';
import type { FileSource } from '../../core/run/types';
import type { Services } from '../services';
import { countMatches, type RunRequest } from './runService';
import { threadsReason } from './format';

/** Remembered per workspace (context.workspaceState). */
export interface FlowDefaults {
  script?: string;
  glob?: string;
  recentGlobs?: string[];
  workers?: number;
  threads?: number;
  warm?: boolean;
}

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

  let files = start.files;
  if (!files) {
    const picked = await pickFiles(folder, defaults);
    if (!picked) return undefined;
    files = picked;
  }

  const settings = services.config.get(folder.uri);
  const cores = logicalCores();
  let workers = defaults.workers || settings.workers || cores;
  let threads = defaults.threads || settings.threadsPerTask || 0; // 0 = auto from workers
  let warm = defaults.warm ?? settings.warmWorkers;

  // the review step: Enter starts; every other line changes one choice and comes back here
  for (;;) {
    const effThreads = threads || defaultThreads(cores, workers);
    const filesText = files.count !== undefined ? `${files.label} (${files.count} file${files.count === 1 ? '' : 's'})` : files.label;
    const choice = await review(folder, script, filesText, workers, threads, effThreads, warm, cores);
    if (!choice) return undefined;
    if (choice === 'start') break;
    if (choice === 'script') script = (await pickScript(folder, defaults)) ?? script;
    else if (choice === 'files') files = (await pickFiles(folder, defaults)) ?? files;
    else if (choice === 'workers') workers = (await askNumber('Workers: files processed at the same time (one process each)', workers, 1, `This machine has ${cores} logical cores.`)) ?? workers;
    else if (choice === 'threads') threads = (await askNumber('BLAS/OpenMP threads per task (0 = automatic: cores ÷ workers)', threads, 0, `Automatic now: ${threadsReason(defaultThreads(cores, workers), workers, cores)}.`)) ?? threads;
    else if (choice === 'warm') warm = !warm;
  }

  const glob = files.source.kind === 'globs' ? files.source.patterns.join(' ') : defaults.glob;
  const recentGlobs = glob ? [glob, ...(defaults.recentGlobs ?? []).filter((g) => g !== glob)].slice(0, 8) : defaults.recentGlobs;
  await saveDefaults(services, { script: path.relative(folder.uri.fsPath, script), glob, recentGlobs, workers, threads, warm });

  return { folder, script, args: [], files: files.source, filesLabel: files.label, workers, threads, warm };
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
  action: 'glob' | 'folder' | 'recent';
  glob?: string;
}

/**
 * Pick the inputs: type a glob and see how many files it matches as you type (debounced, the previous
 * search cancelled), or choose a folder.
 */
export async function pickFiles(folder: vscode.WorkspaceFolder, d: FlowDefaults): Promise<PickedFiles | undefined> {
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

  const result = await new Promise<PickedFiles | 'folder' | undefined>((resolve) => {
    qp.onDidAccept(() => {
      const item = qp.selectedItems[0] ?? qp.activeItems[0];
      if (!item) return;
      if (item.action === 'folder') return resolve('folder');
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

type ReviewChoice = 'start' | 'script' | 'files' | 'workers' | 'threads' | 'warm';
interface ReviewItem extends vscode.QuickPickItem {
  choice: ReviewChoice;
}

async function review(
  folder: vscode.WorkspaceFolder, script: string, filesLabel: string, workers: number, threads: number,
  effThreads: number, warm: boolean, cores: number,
): Promise<ReviewChoice | undefined> {
  const items: ReviewItem[] = [
    { label: '$(play) Start run', description: `${workers} × ${effThreads} thread${effThreads === 1 ? '' : 's'}${warm ? ' · warm' : ''}`, choice: 'start' },
    { label: '', kind: vscode.QuickPickItemKind.Separator, choice: 'start' },
    { label: `$(file-code) Script: ${path.relative(folder.uri.fsPath, script)}`, choice: 'script' },
    { label: `$(files) Files: ${filesLabel}`, choice: 'files' },
    { label: `$(server-process) Workers: ${workers}`, description: workers === cores ? `one per logical core (${cores})` : `${cores} logical cores`, choice: 'workers' },
    { label: `$(symbol-numeric) BLAS threads per task: ${effThreads}${threads ? '' : ' (automatic)'}`, description: threadsReason(effThreads, workers, cores), choice: 'threads' },
    { label: `$(flame) Warm workers: ${warm ? 'on' : 'off'}`, description: warm ? 'one warm Python per worker forks per file' : 'a fresh Python per file', choice: 'warm' },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Parallel Run: ready — Enter starts', placeHolder: 'Pick a line to change it' });
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
