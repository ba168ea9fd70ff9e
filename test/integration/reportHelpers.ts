/** The report panel as the integration suites see it: services.reportPanel and its test hooks. */
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { RunHandle } from '../../extension/core/run/types';
import type { ReportPanelState, ReportRendered } from '../../extension/shared/protocol';
import { services } from './runHelpers';

export interface PanelLike {
  panel: vscode.WebviewPanel;
  lastRendered: ReportRendered | undefined;
  postedTypes: string[];
  handleMessage(m: unknown): Promise<void>;
}

export interface ReportApi {
  show(t: unknown): Promise<PanelLike>;
  showLive(h: RunHandle): Promise<PanelLike>;
  compare(a: string, b: string): Promise<PanelLike>;
  panels(): PanelLike[];
  waitForRendered(pred: (r: ReportRendered, p: PanelLike) => boolean, timeoutMs?: number): Promise<{ panel: PanelLike; rendered: ReportRendered }>;
  deserialize(panel: vscode.WebviewPanel, state: ReportPanelState | undefined): Promise<void>;
  onDidOpenLog: vscode.Event<string>;
}

export async function reportApi(): Promise<ReportApi> {
  const api = (await services()) as unknown as { reportPanel?: ReportApi };
  assert.ok(api.reportPanel, 'services.reportPanel is published');
  return api.reportPanel;
}

/** Disposes every report panel (suites leave no panel behind). */
export function closeAll(api: ReportApi): void {
  for (const p of api.panels()) p.panel.dispose();
}
