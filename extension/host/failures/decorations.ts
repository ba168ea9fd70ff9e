/**
 * Explorer marks on the input files of each folder's latest run: succeeded, failed, timed out (a
 * badge, a theme colour and the error as tooltip). A lookup is one Map.get per path returning a
 * decoration made once per look (no file system call, nothing allocated); a refresh costs nothing per
 * input (see DecorationIndex), and a live run names the files that ended, a few times a second.
 */
import * as vscode from 'vscode';
import type { InputMark } from '../../core/run/inputStatus';
import { ContextKeys } from '../../shared/ids';
import type { Services } from '../services';
import { DecorationIndex } from './decorationIndex';
import type { LatestRuns } from './latestRuns';

/** Failed inputs put in the context key that shows "Debug This File" in the Explorer's menu. */
const MAX_FAILED_IN_CONTEXT = 10_000;

const LOOK: Record<InputMark['status'], { badge: string; color: string; word: string }> = {
  succeeded: { badge: '✓', color: 'testing.iconPassed', word: 'succeeded' },
  failed: { badge: '✗', color: 'testing.iconFailed', word: 'failed' },
  timedOut: { badge: '⧗', color: 'testing.iconFailed', word: 'timed out' },
};

/** The decoration of a mark (exported for tests and the benchmark's shape). */
export function decorationOf(m: InputMark): vscode.FileDecoration {
  const look = LOOK[m.status];
  const d = new vscode.FileDecoration(look.badge, m.status === 'succeeded' ? 'Parallel Run: succeeded in the latest run' : `Parallel Run: ${look.word} in the latest run — ${m.tooltip}`, new vscode.ThemeColor(look.color));
  d.propagate = false;
  return d;
}

export class InputDecorations implements vscode.FileDecorationProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri | vscode.Uri[] | undefined>();
  readonly onDidChangeFileDecorations = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private enabled = true;
  /** every folder's latest marks, as decorations (see DecorationIndex) */
  private readonly index = new DecorationIndex(decorationOf);

  constructor(private readonly services: Services, private readonly latest: LatestRuns) {
    this.readSetting();
    this.disposables.push(
      latest.onDidChange(() => this.refresh()),
      // a live run's files that ended: their marks are in its InputMarks already
      latest.onDidChangeFiles((e) => this.liveFiles(e.paths)),
      services.config.onDidChange(() => {
        const was = this.enabled;
        this.readSetting();
        if (was !== this.enabled) this.refresh(true);
      }),
    );
  }

  private readSetting(): void {
    try {
      this.enabled = this.services.config.get().explorerDecorations;
    } catch {
      this.enabled = true;
    }
  }

  /**
   * A folder's latest run changed: nothing to do when it has the same marks (a report update, or a
   * run that ended with the marks it showed live); otherwise VS Code asks again for the files it
   * shows. `force`: the setting changed.
   */
  refresh(force = false): void {
    const need = this.index.update(this.enabled ? this.latest.all() : [], force);
    if (need === 'none') return;
    if (need === 'all') this.changed.fire(undefined);
    this.failed = this.index.failedPaths(MAX_FAILED_IN_CONTEXT);
    this.failedSet = new Set(this.failed);
    void vscode.commands.executeCommand('setContext', ContextKeys.failedInputs, this.failed);
  }

  /** Inputs that did not succeed, for the "Debug This File" menu (the context key), kept as files end. */
  private failed: string[] = [];
  private failedSet = new Set<string>();

  private liveFiles(paths: string[]): void {
    if (!this.enabled) return;
    this.changed.fire(paths.map((p) => vscode.Uri.file(p)));
    let more = false;
    for (const p of paths) {
      if (this.failed.length >= MAX_FAILED_IN_CONTEXT) break;
      const d = this.index.get(p);
      if (d && d.badge !== LOOK.succeeded.badge && !this.failedSet.has(p)) {
        this.failed.push(p);
        this.failedSet.add(p);
        more = true;
      }
    }
    if (more) void vscode.commands.executeCommand('setContext', ContextKeys.failedInputs, [...this.failed]);
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (uri.scheme !== 'file') return undefined;
    return this.index.get(uri.fsPath);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}
