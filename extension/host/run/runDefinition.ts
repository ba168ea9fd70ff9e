/**
 * Rebuilds a run request from a run directory's `run.json` (written by the engine), for runs this
 * workspace did not start itself (CLI runs, another window, a cleared workspace state): resume and
 * re-run failed still work on them.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { RUN_FILES, type FileSource, type RunOptions } from '../../core/run/types';
import type { RunRequest } from './runService';

export async function loadRunRequest(runDir: string): Promise<RunRequest | undefined> {
  let def: Partial<RunOptions> & { options?: Partial<RunOptions> };
  try {
    def = JSON.parse(await fs.promises.readFile(path.join(runDir, RUN_FILES.definition), 'utf8'));
  } catch {
    return undefined;
  }
  const o: Partial<RunOptions> = def.options ?? def;
  if (!o.command || o.command.kind !== 'python' || !o.files) return undefined;
  const cwd = o.cwd ?? path.dirname(o.command.script);
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(cwd)) ?? vscode.workspace.workspaceFolders?.[0];
  if (!folder) return undefined;
  const files = o.files as FileSource;
  return {
    folder,
    script: o.command.script,
    args: o.command.args ?? [],
    files,
    filesLabel: describeSource(files),
    workers: o.workers ?? 0,
    threads: o.threads ?? 0,
    warm: o.command.warm,
    timeoutSec: o.timeoutSec,
    retries: o.retries,
    halt: o.halt,
    label: o.label,
  };
}

export function describeSource(f: FileSource): string {
  switch (f.kind) {
    case 'globs':
      return f.patterns.join(' ');
    case 'folder':
      return `${path.basename(f.path)}/`;
    case 'list':
      return `${f.files.length} file${f.files.length === 1 ? '' : 's'}`;
    case 'listFile':
      return path.basename(f.path);
    case 'stdin':
      return 'standard input';
  }
}
