/**
 * The one watcher on the runs directories of the open folders: a run directory appearing or going,
 * its run.json or report.json (re)written. The Runs view and the failures feature both follow it.
 * Watches again when the folders or the runs directory setting change.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { Services } from '../services';

export interface RunDirChange {
  folder: vscode.WorkspaceFolder;
  kind: 'create' | 'change' | 'delete';
  uri: vscode.Uri;
  /** the run directory the change is in (or is) */
  runDir: string;
  /** what changed in it: '' for the directory itself, else the file name */
  file: string;
}

export class RunDirsWatcher implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<RunDirChange>();
  readonly onDidChange = this.emitter.event;
  private watchers: vscode.Disposable[] = [];
  private readonly subs: vscode.Disposable[];

  constructor(services: Services, private readonly runsDir: (folder: vscode.WorkspaceFolder) => string) {
    this.subs = [
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.rewatch()),
      services.config.onDidChange(() => this.rewatch()),
    ];
    this.rewatch();
  }

  private rewatch(): void {
    for (const w of this.watchers) w.dispose();
    this.watchers = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      let root: string;
      try {
        root = this.runsDir(folder);
      } catch {
        continue; // invalid setting: reported by Config
      }
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), '{*,*/run.json,*/report.json}'));
      const fire = (kind: RunDirChange['kind']) => (uri: vscode.Uri) => {
        const rel = path.relative(root, uri.fsPath).split(path.sep);
        this.emitter.fire({ folder, kind, uri, runDir: path.join(root, rel[0]), file: rel.slice(1).join('/') });
      };
      w.onDidCreate(fire('create'));
      w.onDidChange(fire('change'));
      w.onDidDelete(fire('delete'));
      this.watchers.push(w);
    }
  }

  dispose(): void {
    for (const d of [...this.watchers, ...this.subs]) d.dispose();
    this.emitter.dispose();
  }
}
