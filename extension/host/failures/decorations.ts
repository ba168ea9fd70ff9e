/**
 * Explorer marks on the input files of each folder's latest run: succeeded, failed, timed out (a
 * badge, a theme colour and the error as tooltip). A lookup is one Map.get per path (no file system
 * call); a live run refreshes the files that ended, a few times a second.
 */
import * as vscode from 'vscode';
import type { InputMark } from '../../core/run/inputStatus';
import { ContextKeys } from '../../shared/ids';
import type { Services } from '../services';
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

  constructor(private readonly services: Services, private readonly latest: LatestRuns) {
    this.readSetting();
    this.disposables.push(
      latest.onDidChange(() => this.refresh()),
      latest.onDidChangeFiles((e) => this.changed.fire(e.paths.map((p) => vscode.Uri.file(p)))),
      services.config.onDidChange(() => {
        const was = this.enabled;
        this.readSetting();
        if (was !== this.enabled) this.refresh();
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

  /** Everything may have changed: VS Code asks again for the files it shows. */
  refresh(): void {
    this.changed.fire(undefined);
    const failed = this.enabled ? this.latest.all().flatMap((r) => r.marks.failedPaths(MAX_FAILED_IN_CONTEXT)).slice(0, MAX_FAILED_IN_CONTEXT) : [];
    void vscode.commands.executeCommand('setContext', ContextKeys.failedInputs, failed);
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (!this.enabled || uri.scheme !== 'file') return undefined;
    for (const r of this.latest.all()) {
      const m = r.marks.get(uri.fsPath);
      if (m) return decorationOf(m);
    }
    return undefined;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}
