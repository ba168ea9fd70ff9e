/**
 * The Problems panel: one diagnostic per failure group of each folder's latest run, at the innermost
 * frame of the user's code in its traceback ("312 of 5,000 files failed here: KeyError: 'EXPTIME'"),
 * with related information opening a few of the logs. It goes with the run (deleted) or with the
 * files (they succeed on a re-run). Quick fixes: Debug This File, Re-run These Files.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { FailureGroup } from '../../core/run/failures';
import { Commands } from '../../shared/ids';
import { count } from '../run/format';
import type { LatestRun, LatestRuns } from './latestRuns';

export const DIAGNOSTIC_SOURCE = 'Parallel Run';
export const DIAGNOSTIC_CODE = 'failed-files';
/** Logs linked from a diagnostic. */
const RELATED_LOGS = 3;

/** What a diagnostic stands for (quick fixes find it by file and line). */
interface Entry {
  runDir: string;
  group: FailureGroup;
  line: number;
}

/** The sentence of a group's diagnostic. */
export function problemMessage(g: FailureGroup, total: number): string {
  // the group's sentence without its place: the diagnostic is at that place
  const what = g.signature.kind === 'python' && g.signature.frame ? g.title.slice(0, g.title.lastIndexOf(' (')) : g.title;
  return `${count(g.count)} of ${count(total)} files failed here: ${what}`;
}

export class FailureProblems implements vscode.Disposable, vscode.CodeActionProvider {
  readonly collection = vscode.languages.createDiagnosticCollection('parallel-run-failures');
  private entries = new Map<string, Entry[]>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly latest: LatestRuns) {
    this.disposables.push(
      latest.onDidChange(() => this.update()),
      vscode.languages.registerCodeActionsProvider({ scheme: 'file', language: 'python' }, this, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
    );
    this.update();
  }

  /** Rebuilds every diagnostic from the latest runs (a handful of groups each: cheap). */
  update(): void {
    const byFile = new Map<string, { uri: vscode.Uri; diags: vscode.Diagnostic[]; entries: Entry[] }>();
    for (const run of this.latest.all()) this.add(run, byFile);
    this.collection.clear();
    this.entries = new Map();
    for (const [k, v] of byFile) {
      this.collection.set(v.uri, v.diags);
      this.entries.set(k, v.entries);
    }
  }

  private add(run: LatestRun, byFile: Map<string, { uri: vscode.Uri; diags: vscode.Diagnostic[]; entries: Entry[] }>): void {
    const r = run.report;
    const total = r.counts.total ?? r.counts.done;
    for (const g of r.failureGroups ?? []) {
      const frame = g.signature.frame;
      if (!frame) continue;
      const file = path.resolve(r.cwd, frame.file);
      const text = lineText(file, frame.line);
      if (text === undefined) continue; // the code is not on this machine (any more)
      const line = frame.line - 1;
      const start = text.length - text.trimStart().length;
      const d = new vscode.Diagnostic(new vscode.Range(line, start, line, Math.max(start + 1, text.trimEnd().length)), problemMessage(g, total), vscode.DiagnosticSeverity.Error);
      d.source = DIAGNOSTIC_SOURCE;
      d.code = DIAGNOSTIC_CODE;
      d.relatedInformation = g.logs.slice(0, RELATED_LOGS).map((log, i) =>
        new vscode.DiagnosticRelatedInformation(new vscode.Location(vscode.Uri.file(path.join(run.runDir, log)), new vscode.Position(0, 0)), `log of ${path.basename(g.files[i] ?? log)}`),
      );
      const key = vscode.Uri.file(file).toString();
      const slot = byFile.get(key) ?? { uri: vscode.Uri.file(file), diags: [], entries: [] };
      slot.diags.push(d);
      slot.entries.push({ runDir: run.runDir, group: g, line });
      byFile.set(key, slot);
    }
  }

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    const entries = this.entries.get(doc.uri.toString()) ?? [];
    const out: vscode.CodeAction[] = [];
    for (const d of ctx.diagnostics) {
      if (d.source !== DIAGNOSTIC_SOURCE || d.code !== DIAGNOSTIC_CODE) continue;
      for (const e of entries.filter((x) => x.line === d.range.start.line)) {
        const first = e.group.files[0];
        const debug = new vscode.CodeAction(`Debug This File (${path.basename(first)})`, vscode.CodeActionKind.QuickFix);
        debug.command = { command: Commands.debugFile, title: 'Debug This File', arguments: [{ runDir: e.runDir, file: first }] };
        debug.diagnostics = [d];
        const rerun = new vscode.CodeAction(`Re-run These ${count(e.group.count)} Files`, vscode.CodeActionKind.QuickFix);
        rerun.command = { command: Commands.rerunFiles, title: 'Re-run These Files', arguments: [{ runDir: e.runDir, files: e.group.files }] };
        rerun.diagnostics = [d];
        out.push(debug, rerun);
      }
    }
    return out;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.collection.dispose();
  }
}

/** Line `n` (1-based) of a file, or undefined when the file or the line is not there. */
function lineText(file: string, n: number): string | undefined {
  try {
    const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
    return n >= 1 && n <= lines.length ? lines[n - 1] : undefined;
  } catch {
    return undefined;
  }
}
