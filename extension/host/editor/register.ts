/**
 * The editor feature: code lenses, diagnostics with quick fixes, loop rewrites on Python files and
 * notebook cells, the `parallelRun.parallelizeLoop` command and "Run Notebook over Files…". Publishes
 * `services.editorAnalysis` ({ analysis, lenses, diagnostics } once loaded) for tests and other features.
 *
 * The source analysis and everything behind the lenses (editorFeature.ts) load with the first Python
 * file or notebook open, or the first of these commands: the providers are registered here and hand
 * each request on.
 */
import * as vscode from 'vscode';
import { Commands } from '../../shared/ids';
import { lazyTable, registerCommands } from '../commands';
import type { Services } from '../services';
import type { EditorAnalysis } from './analysisService';
import type { ParallelRunCodeLenses } from './codeLenses';
import type { ParallelRunDiagnostics } from './diagnostics';
import type { EditorFeature } from './editorFeature';

export interface EditorParts {
  analysis: EditorAnalysis;
  lenses: ParallelRunCodeLenses;
  diagnostics: ParallelRunDiagnostics;
}

/** services.editorAnalysis: the parts once loaded (reading one before throws), ready() loads them. */
export interface EditorApi extends EditorParts {
  ready(): Promise<EditorParts>;
  /** Shows the lenses again (new knowledge, e.g. a BLAS inspection); nothing to do before they loaded. */
  refreshLenses(): void;
}

const PYTHON: vscode.DocumentSelector = [
  { language: 'python', scheme: 'file' },
  { language: 'python', scheme: 'untitled' },
  // notebook cells: analysed with their whole notebook, findings mapped to each cell
  { language: 'python', scheme: 'vscode-notebook-cell' },
];

/** The code actions offered: quick fixes of the diagnostics, loop rewrites. */
const ACTION_KINDS = [vscode.CodeActionKind.QuickFix, vscode.CodeActionKind.RefactorRewrite];

const EDITOR_COMMANDS = [Commands.runNotebook, Commands.runGrid, Commands.writeFixFiles, Commands.parallelizeLoop] as const;

export function register(context: vscode.ExtensionContext, services: Services): EditorApi {
  let current: EditorFeature | undefined;
  let loading: Promise<EditorFeature> | undefined;
  const lensesChanged = new vscode.EventEmitter<void>();
  const feature = (): Promise<EditorFeature> => {
    loading ??= import(/* webpackChunkName: "editor" */ './editorFeature').then((m) => {
      current = m.createEditor(context, services);
      context.subscriptions.push(current.lenses.onDidChangeCodeLenses(() => lensesChanged.fire()));
      lensesChanged.fire();
      return current;
    });
    loading.catch((err) => {
      loading = undefined; // a failed load is tried again on the next use
      services.log.error(`the editor feature did not load: ${(err as Error).message}`);
    });
    return loading;
  };
  const isPython = (d: vscode.TextDocument) => vscode.languages.match(PYTHON, d) > 0;
  context.subscriptions.push(
    lensesChanged,
    vscode.languages.registerCodeLensProvider(PYTHON, {
      onDidChangeCodeLenses: lensesChanged.event,
      provideCodeLenses: async (doc, token) => (await feature()).lenses.provideCodeLenses(doc, token),
    }),
    vscode.languages.registerCodeActionsProvider(PYTHON, {
      provideCodeActions: async (doc, range, ctx, token) => (await feature()).actions.provideCodeActions(doc, range, ctx, token),
    }, { providedCodeActionKinds: ACTION_KINDS }),
    // the diagnostics start with the first Python file (they check every open one when they start)
    vscode.workspace.onDidOpenTextDocument((d) => {
      if (!current && isPython(d)) void feature();
    }),
    vscode.workspace.onDidOpenNotebookDocument(() => {
      if (!current) void feature();
    }),
  );
  for (const d of vscode.workspace.textDocuments) {
    if (isPython(d)) {
      void feature();
      break;
    }
  }
  registerCommands(context, services, lazyTable(EDITOR_COMMANDS, async () => (await feature()).commands), {
    [Commands.parallelizeLoop]: { title: 'Parallelize this loop' },
  });

  const loaded = (): EditorFeature => {
    if (!current) throw new Error('the editor feature loads with the first Python file: await services.editorAnalysis.ready() first.');
    return current;
  };
  return {
    get analysis() {
      return loaded().analysis;
    },
    get lenses() {
      return loaded().lenses;
    },
    get diagnostics() {
      return loaded().diagnostics;
    },
    ready: () => feature(),
    refreshLenses: () => current?.lenses.refresh(),
  };
}
