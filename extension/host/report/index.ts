/**
 * Report feature: the speedup & threads report panel, Compare Runs, Export Report.
 * Publishes `services.reportPanel` (show / showLive / compare / exportReport + test hooks); the run
 * feature's "Show Run Report" command and the Runs view call it. The panels and everything they read
 * (reportFeature.ts) load on first use: a command, a panel shown or restored after a reload.
 */
import * as vscode from 'vscode';
import type { RunHandle, RunReport } from '../../core/run/types';
import { Commands, WEBVIEW_REPORT } from '../../shared/ids';
import type { ReportPanelState, ReportRendered } from '../../shared/protocol';
import { lazyTable, registerCommands } from '../commands';
import { history } from '../history';
import type { Services } from '../services';
import type { ReportFeature } from './reportFeature';
import type { ReportPanel } from './reportPanels';

export interface ExportResult {
  target: string;
  format: 'html' | 'json';
  bytes: number;
}

/** What other features (and tests) use: services.reportPanel. */
export interface ReportPanelApi {
  show(target: string | RunReport | { runDir: string } | vscode.Uri): Promise<ReportPanel>;
  showLive(handle: RunHandle): Promise<ReportPanel>;
  compare(a: string | RunReport, b: string | RunReport): Promise<ReportPanel>;
  /** Writes the report of a run directory (or what a panel shows) without asking. */
  exportReport(source: string | ReportPanel, format: 'html' | 'json', target: string): Promise<ExportResult>;
}

/** What tests read of the report panels (not for other features): open panels, their render
 * acknowledgements, the serializer path, logs opened. */
export interface ReportPanelTestHooks {
  panels(): ReportPanel[];
  waitForRendered(pred: (r: ReportRendered, p: ReportPanel) => boolean, timeoutMs?: number): Promise<{ panel: ReportPanel; rendered: ReportRendered }>;
  deserialize(panel: vscode.WebviewPanel, state: ReportPanelState | undefined): Promise<void>;
  readonly onDidOpenLog: vscode.Event<string>;
}

export function register(context: vscode.ExtensionContext, services: Services): ReportPanelApi & ReportPanelTestHooks {
  const openedLog = new vscode.EventEmitter<string>();
  let current: ReportFeature | undefined;
  let loading: Promise<ReportFeature> | undefined;
  const feature = (): Promise<ReportFeature> => {
    // the history module first: set up (its worker) before the panels read any report
    loading ??= history()
      .then(() => import(/* webpackChunkName: "report" */ './reportFeature'))
      .then((m) => {
        current = m.createReportFeature(context, services);
        context.subscriptions.push(current.panels.onDidOpenLog((f) => openedLog.fire(f)));
        return current;
      });
    loading.catch(() => (loading = undefined)); // a failed load is tried again on the next use
    return loading;
  };
  const deserialize = async (panel: vscode.WebviewPanel, state: ReportPanelState | undefined) => (await feature()).panels.deserializeWebviewPanel(panel, state);
  context.subscriptions.push(openedLog, vscode.window.registerWebviewPanelSerializer(WEBVIEW_REPORT, { deserializeWebviewPanel: deserialize }));
  registerCommands(context, services, lazyTable([Commands.compareRuns, Commands.exportReport], async () => (await feature()).commands));

  return {
    show: async (t) => (await feature()).panels.show(t),
    showLive: async (h) => (await feature()).panels.showLive(h),
    compare: async (a, b) => (await feature()).panels.compare(a, b),
    exportReport: async (source, format, target) => (await feature()).exportReport(source, format, target),
    panels: () => current?.panels.all() ?? [],
    waitForRendered: async (pred, timeoutMs) => (await feature()).panels.waitForRendered(pred, timeoutMs),
    deserialize,
    onDidOpenLog: openedLog.event,
  };
}
