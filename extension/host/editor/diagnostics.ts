/**
 * PR001..PR005 as VS Code diagnostics (debounced on typing, switched off with
 * parallelRun.diagnostics.enabled) and their quick fixes as code actions, plus the loop rewrites as
 * refactorings. The edits come from the analyzer (core); this file only maps them to the VS Code API.
 */
import * as vscode from 'vscode';
import { BlasThreadsAssumption, DIAGNOSTIC_INFO, rightSizeFix, SourceAnalysis, SourceDiagnostic } from '../../core/python/sourceAnalysis';
import { logicalCores } from '../../core/threads';
import type { Services } from '../services';
import { EditorAnalysis, notebookOfCell, toRange } from './analysisService';
import { Commands } from '../../shared/ids';

export const DIAGNOSTIC_SOURCE = 'Parallel Run';
const DEBOUNCE_MS = 350;

const SEVERITY: Record<SourceDiagnostic['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
};

export class ParallelRunDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('parallel-run');
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly services: Services, private readonly analysis: EditorAnalysis) {
    this.subs.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (!e.contentChanges.length) return;
        // an edit in one cell changes what the notebook's other cells are told (one module)
        const nb = notebookOfCell(e.document);
        for (const d of nb ? nb.notebook.getCells().map((c) => c.document) : [e.document]) this.schedule(d, DEBOUNCE_MS);
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.cancel(d.uri);
        this.collection.delete(d.uri);
        this.analysis.forget(d.uri);
      }),
      services.config.onDidChange(() => this.refreshAll()),
      // cells added, removed or re-tagged: the notebook's module changed
      vscode.workspace.onDidChangeNotebookDocument((e) => {
        if (e.contentChanges.length || e.cellChanges.some((c) => c.metadata)) {
          for (const c of e.notebook.getCells()) this.schedule(c.document, DEBOUNCE_MS);
        }
      }),
      vscode.workspace.onDidCloseNotebookDocument((nb) => {
        for (const c of nb.getCells()) this.collection.delete(c.document.uri);
        this.analysis.forget(nb.uri);
      }),
    );
    this.refreshAll();
  }

  private enabled(): boolean {
    return this.services.config.get().diagnosticsEnabled;
  }

  /** Re-check every open Python document (or clear everything when switched off). */
  refreshAll(): void {
    if (!this.enabled()) {
      for (const t of this.timers.values()) clearTimeout(t);
      this.timers.clear();
      this.collection.clear();
      return;
    }
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  private cancel(uri: vscode.Uri): void {
    const key = uri.toString();
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.delete(key);
  }

  private schedule(doc: vscode.TextDocument, delay: number): void {
    if (!EditorAnalysis.accepts(doc) || !this.enabled()) return;
    this.cancel(doc.uri);
    this.timers.set(doc.uri.toString(), setTimeout(() => {
      this.timers.delete(doc.uri.toString());
      void this.update(doc);
    }, delay));
  }

  /** Analyze now and publish; resolves when the collection holds this version's diagnostics. */
  async update(doc: vscode.TextDocument): Promise<readonly vscode.Diagnostic[]> {
    if (!EditorAnalysis.accepts(doc) || !this.enabled()) return [];
    const version = doc.version;
    const local = await this.analysis.analyzeLocal(doc);
    const a = local?.analysis;
    if (!a || doc.isClosed || doc.version !== version || !this.enabled()) return this.collection.get(doc.uri) ?? [];
    // mid-edit syntax errors: keep the last good diagnostics rather than flicker them away
    if (a.syntaxError) return this.collection.get(doc.uri) ?? [];
    const diags = a.diagnostics.map((d) => this.toDiagnostic(d));
    this.collection.set(doc.uri, diags);
    return diags;
  }

  private toDiagnostic(d: SourceDiagnostic): vscode.Diagnostic {
    const diag = new vscode.Diagnostic(toRange(d.range), d.message, SEVERITY[d.severity]);
    diag.source = DIAGNOSTIC_SOURCE;
    diag.code = { value: d.code, target: this.analysis.docLink(d.code) };
    return diag;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.subs.forEach((s) => s.dispose());
    this.collection.dispose();
  }
}

function codeOf(d: vscode.Diagnostic): string | undefined {
  const c = d.code;
  if (typeof c === 'object' && c !== null) return String(c.value);
  return c === undefined ? undefined : String(c);
}

/** Quick fixes for our diagnostics; loop rewrites as refactorings on a loop's line. */
export class ParallelRunCodeActions implements vscode.CodeActionProvider {
  constructor(private readonly analysis: EditorAnalysis, private readonly blasFor: (doc: vscode.TextDocument) => Promise<BlasThreadsAssumption>) {}

  async provideCodeActions(doc: vscode.TextDocument, range: vscode.Range | vscode.Selection, context: vscode.CodeActionContext, token: vscode.CancellationToken): Promise<vscode.CodeAction[]> {
    if (!EditorAnalysis.accepts(doc)) return [];
    const ours = context.diagnostics.filter((d) => d.source === DIAGNOSTIC_SOURCE);
    const wantRefactor = !context.only || context.only.contains(vscode.CodeActionKind.RefactorRewrite) || vscode.CodeActionKind.RefactorRewrite.contains(context.only);
    const wantQuickFix = !context.only || context.only.contains(vscode.CodeActionKind.QuickFix) || vscode.CodeActionKind.QuickFix.contains(context.only);
    if (!ours.length && !wantRefactor && !wantQuickFix) return [];
    const local = await this.analysis.analyzeLocal(doc);
    const a = local?.analysis;
    if (!local || !a || a.syntaxError || token.isCancellationRequested) return [];
    const actions: vscode.CodeAction[] = [];
    for (const diag of ours) {
      const found = matchDiagnostic(a, diag);
      if (!found) continue;
      for (const fix of found.fixes) {
        const edit = local.toEdit(fix.edits);
        if (!edit) continue; // spans notebook cells in a way a cell edit cannot express
        if (fix.files?.length && !local.filesDir) continue; // nowhere on disk to put the module
        const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        action.edit = edit;
        // the files (a module beside the notebook) are written to disk after the edit: a kernel imports them from there
        if (fix.files?.length) action.command = { command: Commands.writeFixFiles, title: fix.title, arguments: [local.filesDir, fix.files] };
        action.diagnostics = [diag];
        action.isPreferred = !!fix.isPreferred;
        actions.push(action);
      }
    }
    // Pool(N) above the cores (times BLAS threads): the right number, where the thread lens says so
    if (wantQuickFix) {
      const touched = a.pools.filter((p) => p.processes.argRange && toRange(p.range).intersection(range));
      if (touched.length) {
        const blas = await this.blasFor(doc);
        for (const pool of touched) {
          const fix = rightSizeFix(pool, logicalCores(), blas, a.threadLimit);
          const edit = fix && local.toEdit(fix.edits);
          if (!fix || !edit) continue;
          const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
          action.edit = edit;
          actions.push(action);
        }
      }
    }
    if (wantRefactor) {
      for (const loop of a.fileLoops) {
        if (loop.line < range.start.line || loop.line > range.end.line) continue;
        for (const w of loop.rewrites) {
          const action = new vscode.CodeAction(`Parallelize this loop: ${w.title}`, vscode.CodeActionKind.RefactorRewrite);
          const edit = w.edits && local.toEdit(w.edits);
          if (edit) action.edit = edit;
          else action.disabled = { reason: `Not possible: ${w.unavailable ?? 'the rewrite spans notebook cells'}` };
          actions.push(action);
        }
      }
    }
    return actions;
  }
}

/** The analyzer diagnostic behind a VS Code diagnostic (same code, same start). */
export function matchDiagnostic(a: SourceAnalysis, diag: vscode.Diagnostic): SourceDiagnostic | undefined {
  const code = codeOf(diag);
  if (!code || !(code in DIAGNOSTIC_INFO)) return undefined;
  return a.diagnostics.find((d) => d.code === code && d.range.start.line === diag.range.start.line && d.range.start.character === diag.range.start.character);
}
