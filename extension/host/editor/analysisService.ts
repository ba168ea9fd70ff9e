/**
 * The host side of source analysis: one analyzer process per interpreter (core SourceAnalyzer), one
 * cached analysis per document version (core AnalysisCache), shared by code lenses, diagnostics and
 * code actions so a keystroke costs one parse.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  AnalysisCache, ANALYZER_SCRIPT, DiagnosticCode, diagnosticDocLines, DIAGNOSTICS_DOC, SourceAnalysis, SourceAnalyzer,
  SourceTextEdit,
} from '../../core/python/sourceAnalysis';
import { resolvePython } from '../../core/python/interpreter';
import { logicalCores } from '../../core/threads';
import { messageOf } from '../config';
import type { Services } from '../services';

interface InterpreterLike {
  resolve(folder?: vscode.WorkspaceFolder): Promise<{ executable: string }>;
}

/** Published as `services.editorAnalysis` (tests and other features reuse the parse). */
export class EditorAnalysis implements vscode.Disposable {
  private analyzer: { python: string; instance: SourceAnalyzer } | undefined;
  private starting: Promise<SourceAnalyzer> | undefined;
  private cache: AnalysisCache | undefined;
  private warned = false;
  private docLines: Record<DiagnosticCode, number> | undefined;
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  /** Fires after a document's analysis finished (lenses refresh on it). */
  readonly onDidAnalyze = this.changed.event;

  constructor(private readonly services: Services) {}

  /** Is this a document we analyze? Python source files (language id, or .py on disk). */
  static accepts(doc: vscode.TextDocument): boolean {
    return doc.languageId === 'python' && (doc.uri.scheme === 'file' || doc.uri.scheme === 'untitled' || doc.uri.scheme === 'vscode-notebook-cell');
  }

  /** The analysis of the document's current version; undefined when the analyzer cannot run. */
  async analyze(doc: vscode.TextDocument): Promise<SourceAnalysis | undefined> {
    try {
      const analyzer = await this.ensureAnalyzer(doc);
      if (!this.cache) this.cache = new AnalysisCache(analyzer);
      const result = await this.cache.get(doc.uri.toString(), doc.version, () => doc.getText(), { cores: logicalCores() });
      this.changed.fire(doc.uri);
      return result;
    } catch (err) {
      this.services.log.warn(`source analysis of ${doc.uri.fsPath} failed: ${messageOf(err)}`);
      if (!this.warned) {
        this.warned = true;
        void vscode.window.showWarningMessage(`Parallel Run cannot analyze Python files for lenses and diagnostics: ${messageOf(err)}`);
      }
      return undefined;
    }
  }

  /** Forget a closed document. */
  forget(uri: vscode.Uri): void {
    this.cache?.delete(uri.toString());
  }

  /** The interpreter that analyzes (and would run) this document: the Python extension's choice, else parallelRun.python.path. */
  async interpreter(doc: vscode.TextDocument): Promise<string> {
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri) ?? vscode.workspace.workspaceFolders?.[0];
    const python = this.services.python as InterpreterLike | undefined;
    if (python && typeof python.resolve === 'function') return (await python.resolve(folder)).executable;
    return (await resolvePython(this.services.config.get().pythonPath || 'python3')).executable;
  }

  private async ensureAnalyzer(doc: vscode.TextDocument): Promise<SourceAnalyzer> {
    const python = await this.interpreter(doc);
    if (this.analyzer && this.analyzer.python === python) return this.analyzer.instance;
    if (this.starting) return this.starting;
    this.starting = (async () => {
      this.analyzer?.instance.dispose();
      const instance = new SourceAnalyzer({
        python,
        script: path.join(this.services.mediaDir, ANALYZER_SCRIPT),
        log: (m) => this.services.log.info(m),
      });
      this.analyzer = { python, instance };
      this.cache = new AnalysisCache(instance);
      return instance;
    })();
    try {
      return await this.starting;
    } finally {
      this.starting = undefined;
    }
  }

  /** Link to the explanation of a diagnostic code: the docs page, opened at the code's heading. */
  docLink(code: DiagnosticCode): vscode.Uri {
    const file = path.join(this.services.context.extensionPath, DIAGNOSTICS_DOC);
    if (!this.docLines) {
      try {
        this.docLines = diagnosticDocLines(fs.readFileSync(file, 'utf8'));
      } catch {
        this.docLines = { PR001: 1, PR002: 1, PR003: 1, PR004: 1, PR005: 1 };
      }
    }
    return vscode.Uri.file(file).with({ fragment: `L${this.docLines[code]}` });
  }

  dispose(): void {
    this.analyzer?.instance.dispose();
    this.analyzer = undefined;
    this.cache?.clear();
    this.changed.dispose();
  }
}

export function toRange(r: { start: { line: number; character: number }; end: { line: number; character: number } }): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

/** A WorkspaceEdit from analyzer edits on one document. */
export function toWorkspaceEdit(uri: vscode.Uri, edits: readonly SourceTextEdit[]): vscode.WorkspaceEdit {
  const we = new vscode.WorkspaceEdit();
  for (const e of edits) we.replace(uri, toRange(e.range), e.newText);
  return we;
}
