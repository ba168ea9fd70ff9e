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
  SourceFixFile, SourceTextEdit,
} from '../../core/python/sourceAnalysis';
import { JoinedNotebook, joinCells, NotebookCell, splitEdits, toCellRange } from '../../core/python/notebook';
import { resolvePython } from '../../core/python/interpreter';
import { mayStartProcess } from '../../core/processGate';
import { logicalCores } from '../../core/threads';
import { messageOf } from '../config';
import type { Services } from '../services';

/**
 * The analysis of one editor document with everything in its own coordinates: for a file, its own
 * analysis; for a notebook cell, the analysis of the whole notebook (its code cells as one module)
 * restricted to the findings in this cell. Edits are turned into WorkspaceEdits here, so a fix in one
 * cell may change others (an import at the top) or create a file beside the notebook.
 */
export interface LocalAnalysis {
  analysis: SourceAnalysis;
  /** The WorkspaceEdit of a fix's or rewrite's edits (joined coordinates for a notebook); undefined when it cannot map. */
  toEdit(edits: readonly SourceTextEdit[]): vscode.WorkspaceEdit | undefined;
  /** Folder where a fix's files go (beside the file or notebook on disk); undefined when not on disk. */
  filesDir: string | undefined;
  /** set for a notebook cell */
  notebook?: { document: vscode.NotebookDocument; cell: number; joined: JoinedNotebook; parametersCell: number };
}

/** The notebook that holds this cell document. */
export function notebookOfCell(doc: vscode.TextDocument): { notebook: vscode.NotebookDocument; cell: number } | undefined {
  if (doc.uri.scheme !== 'vscode-notebook-cell') return undefined;
  const key = doc.uri.toString();
  for (const nb of vscode.workspace.notebookDocuments) {
    const cell = nb.getCells().findIndex((c) => c.document.uri.toString() === key);
    if (cell >= 0) return { notebook: nb, cell };
  }
  return undefined;
}

/** A cell's tags, wherever the notebook serializer keeps them (`metadata.tags`, or `metadata.metadata.tags`). */
export function cellTags(cell: vscode.NotebookCell): string[] {
  const m = cell.metadata as { tags?: unknown; metadata?: { tags?: unknown } } | undefined;
  const tags = Array.isArray(m?.tags) ? m!.tags : Array.isArray(m?.metadata?.tags) ? m!.metadata!.tags : [];
  return (tags as unknown[]).filter((t): t is string => typeof t === 'string');
}

/** The cells of an open notebook as the core sees them (Python code cells are code, the rest markup). */
export function notebookCells(nb: vscode.NotebookDocument): NotebookCell[] {
  return nb.getCells().map((c) => ({
    kind: c.kind === vscode.NotebookCellKind.Code && c.document.languageId === 'python' ? 'code' : 'markup',
    source: c.document.getText().replace(/\r\n?/g, '\n'),
    tags: cellTags(c),
  }));
}

/** `analysis_workers` for analysis.ipynb: the module PR006's fix writes beside the notebook. */
export function workersModuleName(notebookPath: string): string {
  return `${path.basename(notebookPath).replace(/\.ipynb$/i, '')}_workers`;
}

/**
 * Writes the files a fix creates beside `dir` (appends to those that exist), on disk at once: a
 * notebook kernel imports them from there. Returns their paths.
 */
export function writeFixFiles(dir: string, files: readonly SourceFixFile[]): string[] {
  return files.map((f) => {
    const file = path.join(dir, path.basename(f.name));
    let existing: string | undefined;
    try {
      existing = fs.readFileSync(file, 'utf8');
    } catch {
      existing = undefined;
    }
    if (existing === undefined) fs.writeFileSync(file, f.text, { flag: 'wx' });
    else fs.appendFileSync(file, `${existing.endsWith('\n') || !existing ? '' : '\n'}\n\n${f.appendText}`);
    return file;
  });
}

/** Published as `services.editorAnalysis` (tests and other features reuse the parse). */
export class EditorAnalysis implements vscode.Disposable {
  private analyzer: { python: string; instance: SourceAnalyzer } | undefined;
  private starting: Promise<SourceAnalyzer> | undefined;
  private cache: AnalysisCache | undefined;
  private warned = false;
  private docLines: Record<DiagnosticCode, number> | undefined;
  private readonly joinedCache = new Map<string, { version: string; joined: JoinedNotebook; parametersCell: number }>();
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
    // the analyzer is a Python process: none in an untrusted workspace (no lenses, no diagnostics, no warning)
    if (!mayStartProcess('start the Python source analyzer')) return undefined;
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

  /**
   * The analysis of a document in its own coordinates (see LocalAnalysis): a notebook cell is analysed
   * with its whole notebook. Undefined when the analyzer cannot run.
   */
  async analyzeLocal(doc: vscode.TextDocument): Promise<LocalAnalysis | undefined> {
    const inNotebook = notebookOfCell(doc);
    if (!inNotebook) {
      const analysis = await this.analyze(doc);
      if (!analysis) return undefined;
      return {
        analysis,
        toEdit: (edits) => toWorkspaceEdit(doc.uri, edits),
        filesDir: doc.uri.scheme === 'file' ? path.dirname(doc.uri.fsPath) : undefined,
      };
    }
    const { notebook, cell } = inNotebook;
    const r = await this.analyzeNotebook(notebook, doc);
    if (!r) return undefined;
    const { analysis: whole, joined, parametersCell } = r;
    const cells = notebook.getCells();
    const local = <T extends { range: SourceTextEdit['range'] }>(x: T): T | undefined => {
      const m = toCellRange(joined, x.range);
      return m && m.cell === cell ? { ...x, range: m.range } : undefined;
    };
    const toEdit = (edits: readonly SourceTextEdit[]): vscode.WorkspaceEdit | undefined => {
      const perCell = splitEdits(joined, edits);
      if (!perCell) return undefined;
      const we = new vscode.WorkspaceEdit();
      for (const [i, list] of perCell) for (const e of list) we.replace(cells[i].document.uri, toRange(e.range), e.newText);
      return we;
    };
    const keep = <T>(xs: T[], f: (x: T) => T | undefined): T[] => xs.map(f).filter((x): x is T => x !== undefined);
    const analysis: SourceAnalysis = {
      ...whole,
      // a notebook has no entry point to run per file (Run Notebook over Files does that)
      entryPoint: null,
      pools: keep(whole.pools, (p) => {
        const m = local(p);
        const arg = p.processes.argRange && toCellRange(joined, p.processes.argRange);
        return m && { ...m, line: m.range.start.line, processes: { ...p.processes, argRange: arg && arg.cell === cell ? arg.range : undefined } };
      }),
      threadLimit: whole.threadLimit,
      fileLoops: keep(whole.fileLoops, (l) => {
        const m = local(l);
        return m && { ...m, line: m.range.start.line };
      }),
      diagnostics: keep(whole.diagnostics, local),
      syntaxError: whole.syntaxError,
    };
    const filesDir = notebook.uri.scheme === 'file' ? path.dirname(notebook.uri.fsPath) : undefined;
    return { analysis, toEdit, filesDir, notebook: { document: notebook, cell, joined, parametersCell } };
  }

  /** The analysis of a notebook's code cells as one module (cached per notebook and cell versions). */
  private async analyzeNotebook(nb: vscode.NotebookDocument, anyCell: vscode.TextDocument): Promise<{ analysis: SourceAnalysis; joined: JoinedNotebook; parametersCell: number } | undefined> {
    try {
      const analyzer = await this.ensureAnalyzer(anyCell);
      if (!this.cache) this.cache = new AnalysisCache(analyzer);
      const cells = nb.getCells();
      const version = `${nb.version}:${cells.map((c) => `${c.document.uri.fragment}@${c.document.version}`).join(',')}`;
      let joined = this.joinedCache.get(nb.uri.toString());
      if (!joined || joined.version !== version) {
        const core = notebookCells(nb);
        joined = { version, joined: joinCells(core), parametersCell: core.findIndex((c) => c.kind === 'code' && c.tags.includes('parameters')) };
        this.joinedCache.set(nb.uri.toString(), joined);
      }
      const j = joined;
      const analysis = await this.cache.get(nb.uri.toString(), version, () => j.joined.source, {
        cores: logicalCores(),
        notebook: true,
        workersModule: workersModuleName(nb.uri.fsPath || nb.uri.path),
      });
      this.changed.fire(nb.uri);
      return { analysis, joined: j.joined, parametersCell: j.parametersCell };
    } catch (err) {
      this.services.log.warn(`source analysis of ${nb.uri.fsPath} failed: ${messageOf(err)}`);
      return undefined;
    }
  }

  /** Forget a closed document. */
  forget(uri: vscode.Uri): void {
    this.cache?.delete(uri.toString());
    this.joinedCache.delete(uri.toString());
  }

  /** The interpreter that analyzes (and would run) this document: the Python extension's choice, else parallelRun.python.path. */
  async interpreter(doc: vscode.TextDocument): Promise<string> {
    return this.interpreterFor(doc.uri);
  }

  /** The interpreter for a file (or notebook) of the workspace. */
  async interpreterFor(uri: vscode.Uri): Promise<string> {
    const folder = vscode.workspace.getWorkspaceFolder(uri) ?? vscode.workspace.workspaceFolders?.[0];
    const python = this.services.python;
    if (python) return (await python.resolve(folder)).executable;
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
        this.docLines = diagnosticDocLines('');
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
