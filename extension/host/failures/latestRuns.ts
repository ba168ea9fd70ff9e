/**
 * The latest run of each workspace folder (the newest session start among its runs directory), with
 * its report and how each of its input files ended: what the Problems panel and the Explorer show.
 * Follows live runs (their finished files as they come) and the runs directory (a deleted run).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { readDefinition } from '../../core/run/runDir';
import { history } from '../history';
import { InputMarks } from '../../core/run/inputStatus';
import { RUN_FILES, type RunHandle, type RunReport, type TaskRecord } from '../../core/run/types';
import type { RunService } from '../run/runService';

export interface LatestRun {
  folder: vscode.WorkspaceFolder;
  runDir: string;
  report: RunReport;
  /** every input's last end (all sessions of the run) */
  marks: InputMarks;
  live: boolean;
}

/** The newest run directory in `root` by its last session's start (reads each run.json only). */
export async function newestRunDir(root: string): Promise<string | undefined> {
  const names = await fs.promises.readdir(root).catch(() => [] as string[]);
  let best: { dir: string; t: number } | undefined;
  for (const n of names) {
    const dir = path.join(root, n);
    const def = readDefinition(dir);
    if (!def) continue;
    const t = def.sessions?.[def.sessions.length - 1]?.startedAt ?? def.createdAt;
    if (!best || t > best.t) best = { dir, t };
  }
  return best?.dir;
}

/** How each input of a run last ended, from its journal (every session: a resume's skipped files keep their mark). */
async function marksOf(runDir: string, cwd: string): Promise<InputMarks> {
  const { readJournal } = await import('../../core/run/journal');
  const def = readDefinition(runDir);
  const marks = new InputMarks(cwd);
  const ok = new Set<string>();
  for await (const l of readJournal(path.join(runDir, RUN_FILES.journal))) {
    if (def && l.fp !== def.fingerprint) continue;
    // a success stands (resume never runs the file again); otherwise the latest record
    const key = path.resolve(cwd, l.file);
    if (ok.has(key)) continue;
    if (l.status === 'succeeded') ok.add(key);
    marks.set(l);
  }
  return marks;
}

export class LatestRuns implements vscode.Disposable {
  private readonly byFolder = new Map<string, LatestRun>();
  private readonly changed = new vscode.EventEmitter<LatestRun | { folder: vscode.WorkspaceFolder; runDir: undefined }>();
  /** A folder's latest run changed (or it has none any more). */
  readonly onDidChange = this.changed.event;
  /** Files of the live run that ended since the last event (batched), absolute paths. */
  private readonly liveFiles = new vscode.EventEmitter<{ folder: vscode.WorkspaceFolder; paths: string[] }>();
  readonly onDidChangeFiles = this.liveFiles.event;
  private readonly disposables: vscode.Disposable[] = [];
  private liveSubs = new Map<string, () => void>();
  private pendingPaths = new Map<string, { folder: vscode.WorkspaceFolder; paths: string[] }>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly ready: Promise<void>;

  constructor(private readonly runs: RunService) {
    this.disposables.push(
      runs.onDidChange((e) => {
        if (e.kind === 'started') this.follow(e.folder, e.outDir);
        else if (e.kind === 'progress') this.liveReport(e.folder, e.outDir);
        else void this.load(e.folder, e.outDir, e.report);
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.reloadAll()),
      // a deleted run: its marks and problems go with it (the next latest run shows, if any)
      runs.runDirs.onDidChange((c) => {
        if (c.kind === 'delete' && (c.file === '' || c.file === 'run.json')) void this.reload(c.folder);
      }),
    );
    this.ready = this.reloadAll();
  }

  /** Resolves once every folder's latest run has been read once. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  all(): LatestRun[] {
    return [...this.byFolder.values()];
  }

  of(folder: vscode.WorkspaceFolder): LatestRun | undefined {
    return this.byFolder.get(folder.uri.toString());
  }

  /** The latest run whose inputs hold this file (absolute path), if any. */
  runOfInput(fsPath: string): LatestRun | undefined {
    return this.all().find((r) => r.marks.get(fsPath));
  }

  /** Reads every folder's latest run again (a run was deleted, say). */
  async refresh(): Promise<void> {
    for (const folder of vscode.workspace.workspaceFolders ?? []) await this.reload(folder);
  }

  private async reloadAll(): Promise<void> {
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      try {
        this.runs.runsDir(folder);
      } catch {
        continue;
      }
      await this.reload(folder);
    }
  }

  private async reload(folder: vscode.WorkspaceFolder): Promise<void> {
    const live = this.runs.activeRuns().filter((h) => this.folderOf(h.outDir)?.uri.toString() === folder.uri.toString()).pop();
    if (live) return this.follow(folder, live.outDir);
    let root: string;
    try {
      root = this.runs.runsDir(folder);
    } catch {
      return;
    }
    const dir = await newestRunDir(root);
    if (!dir) {
      if (this.byFolder.delete(folder.uri.toString())) this.changed.fire({ folder, runDir: undefined });
      return;
    }
    await this.load(folder, dir, undefined, true);
  }

  private folderOf(dir: string): vscode.WorkspaceFolder | undefined {
    return (vscode.workspace.workspaceFolders ?? []).find((f) => {
      try {
        return path.resolve(this.runs.runsDir(f)) === path.dirname(path.resolve(dir));
      } catch {
        return false;
      }
    });
  }

  /** A finished (or not running) run: its report and the marks from its journal. */
  private async load(folder: vscode.WorkspaceFolder, runDir: string, report?: RunReport, newest = false): Promise<void> {
    this.unfollow(runDir);
    const r = report ?? (await (await history()).readReport(runDir).catch(() => undefined));
    if (!r) return;
    const current = this.of(folder);
    // an older run finishing after a newer one started does not take its place
    // (`newest`: found as the newest on disk, e.g. after the latest one was deleted)
    if (!newest && current && current.runDir !== runDir && current.report.startedAt > r.startedAt) return;
    // a run that just ended keeps the marks it showed live (every file as it ended, and its earlier
    // sessions'): the Explorer then has nothing to ask again, and a 100,000-line journal is not read
    const marks = current?.live && current.runDir === runDir ? current.marks : await marksOf(runDir, r.cwd);
    const latest: LatestRun = { folder, runDir, report: r, marks, live: false };
    this.byFolder.set(folder.uri.toString(), latest);
    this.changed.fire(latest);
  }

  /** A run going on: earlier sessions' marks, then each file as it ends. */
  private follow(folder: vscode.WorkspaceFolder, runDir: string): void {
    const h = this.runs.activeRuns().find((x) => path.resolve(x.outDir) === path.resolve(runDir));
    if (!h || this.liveSubs.has(path.resolve(runDir))) return;
    const report = h.report();
    const latest: LatestRun = { folder, runDir, report, marks: new InputMarks(report.cwd), live: true };
    this.byFolder.set(folder.uri.toString(), latest);
    const off = h.onEvent((e) => {
      if (e.type === 'taskFinished') this.liveMark(latest, e.record);
    });
    this.liveSubs.set(path.resolve(runDir), off);
    this.changed.fire(latest);
    // files done in earlier sessions (resume, a group's re-run) keep their marks
    void marksOf(runDir, report.cwd).then((m) => {
      if (this.of(folder) !== latest) return;
      latest.marks = mergeMarks(m, latest.marks);
      this.changed.fire(latest);
    });
  }

  private liveReport(folder: vscode.WorkspaceFolder, runDir: string): void {
    const latest = this.of(folder);
    const h: RunHandle | undefined = this.runs.activeRuns().find((x) => path.resolve(x.outDir) === path.resolve(runDir));
    if (!latest || !h || latest.runDir !== runDir) return;
    latest.report = h.report();
    this.changed.fire(latest);
  }

  private liveMark(latest: LatestRun, rec: TaskRecord): void {
    const key = latest.marks.set(rec);
    if (!key) return;
    const k = latest.folder.uri.toString();
    const p = this.pendingPaths.get(k) ?? { folder: latest.folder, paths: [] };
    p.paths.push(key);
    this.pendingPaths.set(k, p);
    // a fast run ends thousands of files a second: the Explorer hears of them a few times a second
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      const all = [...this.pendingPaths.values()];
      this.pendingPaths.clear();
      for (const x of all) this.liveFiles.fire(x);
    }, 250);
  }

  private unfollow(runDir: string): void {
    const off = this.liveSubs.get(path.resolve(runDir));
    off?.();
    this.liveSubs.delete(path.resolve(runDir));
  }

  dispose(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const off of this.liveSubs.values()) off();
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
    this.liveFiles.dispose();
  }
}

/** Earlier marks, with the live ones on top. */
function mergeMarks(earlier: InputMarks, live: InputMarks): InputMarks {
  const out = new InputMarks(earlier.cwd);
  for (const [k, v] of earlier.entries()) out.put(k, v);
  for (const [k, v] of live.entries()) out.put(k, v);
  return out;
}
