/**
 * Resource monitor feature: one sampler per window, the status bar item, the Resource
 * Monitor panel and its serializer. Publishes `services.monitor` (MonitorApi): the run feature
 * reports its active run there; tests read the status bar through it.
 */
import * as vscode from 'vscode';
import type { ParallelRunSettings } from '../../core/settings';
import { Commands, WEBVIEW_MONITOR } from '../../shared/ids';
import type { MonitorRendered, MonitorUpdate } from '../../shared/protocol';
import { registerCommands } from '../commands';
import { messageOf } from '../config';
import type { Services } from '../services';
import { ActiveRunInfo, MonitorService } from './monitorService';
import { MonitorPanel } from './panel';
import { MonitorStatusBar, StatusBarState } from './statusBar';

/** What the monitor publishes on `services.monitor`. */
export interface MonitorApi {
  /** the window's one sampler (the run report's CPU chart may subscribe too) */
  readonly service: MonitorService;
  /** the run feature calls this on every change of its active run, and with undefined at the end */
  setActiveRun(info: ActiveRunInfo | undefined): void;
  /** takes a sample now and renders it everywhere */
  refresh(): MonitorUpdate;
}

/** What tests read of the monitor (not for other features): the status bar and the panel. */
export interface MonitorTestHooks {
  statusBar(): StatusBarState;
  panel(): { open: boolean; rendered: MonitorRendered | undefined; onDidRender: vscode.Event<MonitorRendered> };
}

const DEFAULTS: ParallelRunSettings['monitor'] = { enabled: true, intervalMs: 1000, memoryWarningPercent: 90 };

export function register(context: vscode.ExtensionContext, services: Services): MonitorApi & MonitorTestHooks {
  const settings = (): ParallelRunSettings['monitor'] => {
    try {
      return services.config.get().monitor;
    } catch (err) {
      // a bad unrelated setting must not take the monitor down; the config feature reports it
      services.log.warn(`Resource monitor uses defaults: ${messageOf(err)}`);
      return DEFAULTS;
    }
  };
  const initial = settings();
  const service = new MonitorService(initial);
  const panel = new MonitorPanel(context.extensionUri, service);
  const statusBar = new MonitorStatusBar(service, initial.enabled);

  context.subscriptions.push(
    service,
    panel,
    statusBar,
    services.config.onDidChange((s) => {
      service.configure(s.monitor);
      statusBar.setEnabled(s.monitor.enabled);
    }),
    vscode.window.registerWebviewPanelSerializer(WEBVIEW_MONITOR, {
      deserializeWebviewPanel: async (webviewPanel) => panel.attach(webviewPanel),
    }),
  );

  registerCommands(context, services, { [Commands.showMonitor]: () => panel.show() });

  const api: MonitorApi & MonitorTestHooks = {
    service,
    setActiveRun: (info) => service.setActiveRun(info),
    refresh: () => service.refresh(),
    statusBar: () => statusBar.state(),
    panel: () => ({ open: panel.isOpen(), rendered: panel.rendered(), onDidRender: panel.onDidRender }),
  };
  return api;
}
