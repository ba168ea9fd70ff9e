/**
 * The Runs view: every run in the workspace's runs directories, newest first, with status, counts and
 * duration; a run expands to its files (failed first), and a file opens its log. Reads only the run
 * directories (works in an untrusted workspace), plus the live report of a run this window is doing.
 * Refreshed by run events and the runs directories' watcher (RunService.runDirs).
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { FailureGroup } from '../../core/run/failures';
import type { RunReport, RunStatus, TaskRecord, TaskStatus } from '../../core/run/types';
import { Commands, Views } from '../../shared/ids';
import { history } from '../history';
import type { Services } from '../services';
import type { RunService } from '../run/runService';
import { formatAgo, formatDuration, RUN_STATUS_TEXT } from '../run/format';

/** Children shown per run before a "… N more" line (the report has them all). */
const MAX_TASK_NODES = 2000;

export type RunsNode = FolderNode | RunNode | TaskNode | MoreNode | FailuresNode | FailureGroupNode;

export class FolderNode {
  readonly kind = 'folder';
  constructor(readonly folder: vscode.WorkspaceFolder) {}
}

export class RunNode {
  readonly kind = 'run';
  constructor(
    readonly runDir: string,
    readonly runId: string,
    public status: RunStatus,
    readonly label: string,
    readonly startedAt: number,
    public wallMs: number,
    public counts: RunReport['counts'],
  ) {}
  /** For menus: `run.<status>` (+ `.hasFailures`); package.json matches /^run/. */
  get contextValue(): string {
    return `run.${this.status}${this.counts.failed + this.counts.timedOut > 0 ? '.hasFailures' : ''}`;
  }
}

export class TaskNode {
  readonly kind = 'task';
  constructor(readonly runDir: string, readonly record: TaskRecord) {}
  get contextValue(): string {
    return `task.${this.record.status}`;
  }
}

/** "Failures": a run's failure groups, largest first. */
export class FailuresNode {
  readonly kind = 'failures';
  constructor(readonly runDir: string, readonly groups: FailureGroup[]) {}
}

/** One failure group: its files share an error signature. Menus: re-run, open a log, copy, debug. */
export class FailureGroupNode {
  readonly kind = 'failureGroup';
  readonly contextValue = 'failureGroup';
  constructor(readonly runDir: string, readonly group: FailureGroup) {}
  /** the files the group's commands act on */
  get files(): string[] {
    return this.group.files;
  }
  /** its first file (Open a Log, Debug This File) */
  get file(): string {
    return this.group.files[0];
  }
}

export class MoreNode {
  readonly kind = 'more';
  constructor(readonly runDir: string, readonly hidden: number) {}
}

const RUN_ICONS: Record<RunStatus, [string, string | undefined]> = {
  running: ['sync~spin', 'charts.blue'],
  succeeded: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  cancelled: ['circle-slash', 'disabledForeground'],
  halted: ['stop-circle', 'testing.iconFailed'],
  interrupted: ['debug-pause', 'charts.yellow'],
};

const TASK_ICONS: Record<TaskStatus, [string, string | undefined]> = {
  succeeded: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  timedOut: ['watch', 'testing.iconFailed'],
  cancelled: ['circle-slash', 'disabledForeground'],
  skipped: ['debug-step-over', 'disabledForeground'],
};

function icon([id, color]: [string, string | undefined]): vscode.ThemeIcon {
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined | void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The run nodes last returned, by run directory (live progress updates them in place). */
  private readonly shown = new Map<string, RunNode>();

  constructor(private readonly services: Services, private readonly runs: RunService) {
    this.disposables.push(
      runs.onDidChange((e) => (e.kind === 'progress' ? this.refreshLive(e.outDir) : this.refreshSoon())),
      // a run directory appearing/disappearing, or its report/definition being (re)written
      runs.runDirs.onDidChange(() => this.refreshSoon()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.refresh()),
      services.config.onDidChange(() => this.refresh()),
    );
    this.refresh();
  }

  /** Re-read everything now. */
  refresh(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.changed.fire();
  }

  /**
   * Progress of a live run: update its node in place from the engine's live report and refresh that
   * node only (re-listing every run directory twice a second would re-read every journal).
   */
  private refreshLive(outDir: string): void {
    const node = this.shown.get(path.resolve(outDir));
    const live = this.runs.activeRuns().find((h) => path.resolve(h.outDir) === path.resolve(outDir));
    if (!node || !live) return this.refreshSoon();
    const r = live.report();
    node.status = r.status;
    node.wallMs = r.wallMs;
    node.counts = r.counts;
    this.changed.fire(node);
  }

  /** Coalesce bursts (a run finishing writes several files). */
  private refreshSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.refresh(), 300);
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'folder': {
        const item = new vscode.TreeItem(node.folder.name, vscode.TreeItemCollapsibleState.Expanded);
        item.iconPath = vscode.ThemeIcon.Folder;
        item.contextValue = 'folder';
        return item;
      }
      case 'run': {
        const c = node.counts;
        // the label is cut so that the done/total count after it stays readable at the default width
        const item = new vscode.TreeItem(shortLabel(node.label), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `run:${node.runDir}`;
        item.iconPath = icon(RUN_ICONS[node.status]);
        item.description = runDescription(c, node.wallMs, node.startedAt);
        const md = new vscode.MarkdownString(undefined, true);
        md.appendMarkdown(`**${escapeMd(node.label)}** — $(${RUN_ICONS[node.status][0]}) ${RUN_STATUS_TEXT[node.status]}\n\n`);
        md.appendMarkdown(`${c.succeeded} succeeded · ${c.failed} failed · ${c.timedOut} timed out · ${c.skipped} skipped · ${c.cancelled} cancelled · ${c.retried} retried\n\n`);
        md.appendMarkdown(`Started ${new Date(node.startedAt).toLocaleString()}, took ${formatDuration(node.wallMs)}\n\n`);
        md.appendText(node.runDir);
        item.tooltip = md;
        item.contextValue = node.contextValue;
        item.resourceUri = vscode.Uri.file(node.runDir);
        return item;
      }
      case 'task': {
        const r = node.record;
        const item = new vscode.TreeItem(path.basename(r.file), vscode.TreeItemCollapsibleState.None);
        item.id = `task:${node.runDir}:${r.index}`;
        item.iconPath = icon(TASK_ICONS[r.status]);
        const extra = r.status === 'failed' ? ` · exit ${r.exitCode ?? r.signal}` : r.attempts > 1 ? ` · ${r.attempts} attempts` : '';
        item.description = `${r.status} · ${formatDuration(r.wallMs)}${extra}`;
        item.tooltip = `${r.file}\n${r.status}${r.exitCode !== null ? `, exit ${r.exitCode}` : ''}${r.signal ? `, ${r.signal}` : ''} · ${formatDuration(r.wallMs)} · worker ${r.slot}` +
          (r.stderrTail.trim() ? `\n\n${r.stderrTail.trim().split(/\r?\n/).slice(-5).join('\n')}` : '');
        item.contextValue = node.contextValue;
        item.command = { command: Commands.openTaskLog, title: 'Open Task Log', arguments: [node.runDir, r] };
        return item;
      }
      case 'failures': {
        const files = node.groups.reduce((n, g) => n + g.count, 0);
        const item = new vscode.TreeItem('Failures', vscode.TreeItemCollapsibleState.Expanded);
        item.id = `failures:${node.runDir}`;
        item.iconPath = icon(['error', 'testing.iconFailed']);
        item.description = `${files} file${files === 1 ? '' : 's'}, ${node.groups.length} kind${node.groups.length === 1 ? '' : 's'} of error`;
        item.contextValue = 'failures';
        return item;
      }
      case 'failureGroup': {
        const g = node.group;
        const item = new vscode.TreeItem(g.title, vscode.TreeItemCollapsibleState.None);
        item.id = `failureGroup:${node.runDir}:${g.key}`;
        item.iconPath = icon(g.kind === 'timedOut' ? ['watch', 'testing.iconFailed'] : g.kind === 'memory' ? ['server', 'testing.iconFailed'] : ['bug', 'testing.iconFailed']);
        item.description = `${g.count} file${g.count === 1 ? '' : 's'}, e.g. ${path.basename(g.files[0] ?? '')}`;
        const md = new vscode.MarkdownString();
        md.appendText(`${g.count} file${g.count === 1 ? '' : 's'}: ${g.title}\n`);
        if (g.traceback) md.appendCodeblock(g.traceback, 'text');
        md.appendText(`\n${g.files.slice(0, 5).map((f) => path.basename(f)).join(', ')}${g.files.length > 5 ? `, … (${g.files.length - 5} more)` : ''}`);
        item.tooltip = md;
        item.contextValue = node.contextValue;
        item.command = { command: Commands.openTaskLog, title: 'Open a Log', arguments: [{ runDir: node.runDir, file: node.file }] };
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(`… ${node.hidden} more files`, vscode.TreeItemCollapsibleState.None);
        item.command = { command: Commands.showReport, title: 'Show Run Report', arguments: [{ runDir: node.runDir }] };
        item.tooltip = 'Open the report to see every file';
        return item;
      }
    }
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (!node) {
      const folders = vscode.workspace.workspaceFolders ?? [];
      if (folders.length === 1) return this.runsOf(folders[0]);
      return folders.map((f) => new FolderNode(f));
    }
    switch (node.kind) {
      case 'folder':
        return this.runsOf(node.folder);
      case 'run':
        return this.tasksOf(node);
      case 'failures':
        return node.groups.map((g) => new FailureGroupNode(node.runDir, g));
      default:
        return [];
    }
  }

  getParent(): undefined {
    return undefined;
  }

  private async runsOf(folder: vscode.WorkspaceFolder): Promise<RunNode[]> {
    let dir: string;
    try {
      dir = this.runs.runsDir(folder);
    } catch {
      return [];
    }
    const live = new Map(this.runs.activeRuns().map((h) => [path.resolve(h.outDir), h]));
    const summaries = await (await history()).listRuns(dir).catch(() => []);
    const nodes = summaries.map((s) => {
      const h = live.get(path.resolve(s.runDir));
      if (h) return nodeFromReport(s.runDir, h.report());
      // a CLI run without --label: what ran ("python analyze.py"), not its id
      return new RunNode(s.runDir, s.runId, s.status, s.label ?? s.commandLabel ?? s.runId, s.startedAt, s.wallMs, s.counts);
    });
    // a run started this instant may not have its run.json yet
    for (const [d, h] of live) if (path.dirname(d) === path.resolve(dir) && !nodes.some((n) => path.resolve(n.runDir) === d)) nodes.push(nodeFromReport(h.outDir, h.report()));
    for (const n of nodes) this.shown.set(path.resolve(n.runDir), n);
    return nodes.sort((a, b) => b.startedAt - a.startedAt);
  }

  private async tasksOf(node: RunNode): Promise<RunsNode[]> {
    const live = this.runs.activeRuns().find((h) => path.resolve(h.outDir) === path.resolve(node.runDir));
    const report = live ? live.report() : await (await history()).readReport(node.runDir).catch(() => undefined);
    const tasks = [...(report?.tasks ?? [])];
    const rank = (s: TaskStatus) => (s === 'failed' || s === 'timedOut' ? 0 : s === 'cancelled' ? 1 : 2);
    tasks.sort((a, b) => rank(a.status) - rank(b.status) || a.index - b.index);
    const out: RunsNode[] = [];
    const groups = report?.failureGroups ?? [];
    if (groups.length > 0) out.push(new FailuresNode(node.runDir, groups));
    for (const t of tasks.slice(0, MAX_TASK_NODES)) out.push(new TaskNode(node.runDir, t));
    if (tasks.length > MAX_TASK_NODES) out.push(new MoreNode(node.runDir, tasks.length - MAX_TASK_NODES));
    return out;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}

function nodeFromReport(runDir: string, r: RunReport): RunNode {
  return new RunNode(runDir, r.runId, r.status, r.label ?? r.runId, r.startedAt, r.wallMs, r.counts);
}

/** Longest run label shown in full in the tree (the whole label is in the tooltip). */
export const RUN_LABEL_MAX = 28;

export function shortLabel(label: string): string {
  const chars = [...label];
  return chars.length <= RUN_LABEL_MAX ? label : `${chars.slice(0, RUN_LABEL_MAX - 1).join('').trimEnd()}…`;
}

/** "22/24 ✓ · 2 ✗ · 34.6 s · 3 min ago": the count first, so it is what stays visible. */
export function runDescription(c: RunReport['counts'], wallMs: number, startedAt: number): string {
  const total = c.total ?? c.done;
  const bad = c.failed + c.timedOut;
  return `${c.succeeded + c.skipped}/${total} ✓${bad ? ` · ${bad} ✗` : ''} · ${formatDuration(wallMs)} · ${formatAgo(startedAt)}`;
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|]/g, '\\$&');
}

/** Registers the view; returns the provider (published as services.runsTree for tests). */
export function registerRunsView(context: vscode.ExtensionContext, services: Services, runs: RunService): RunsTreeProvider {
  const provider = new RunsTreeProvider(services, runs);
  const view = vscode.window.createTreeView(Views.runs, { treeDataProvider: provider, showCollapseAll: true });
  context.subscriptions.push(provider, view);
  return provider;
}
