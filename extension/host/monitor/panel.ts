/**
 * The Resource Monitor webview: live per-core and total CPU, memory, 10 minutes of history and the
 * active run's processes. CSP default-src 'none', nonce'd script, data only by
 * postMessage; restored after a reload by a serializer (no retainContextWhenHidden: a hidden panel
 * is destroyed and, when shown again, says `ready` and gets the history again).
 */
import * as vscode from 'vscode';
import { WEBVIEW_MONITOR } from '../../shared/ids';
import type { MonitorFromWebview, MonitorRendered, MonitorToWebview } from '../../shared/protocol';
import { shellOptions, webviewShell } from '../webviewShell';
import type { MonitorService } from './monitorService';

export class MonitorPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  /** until the webview says `ready` nothing is sent: `init` then carries the history and latest sample */
  private ready = false;
  private panelSubs: vscode.Disposable[] = [];
  private readonly subs: vscode.Disposable[] = [];
  private lastRendered: MonitorRendered | undefined;
  private readonly renderedEmitter = new vscode.EventEmitter<MonitorRendered>();
  /** fires after the webview drew something (tests wait on it) */
  readonly onDidRender = this.renderedEmitter.event;

  constructor(private readonly extensionUri: vscode.Uri, private readonly service: MonitorService) {
    this.subs.push(
      service.onDidUpdate((update) => this.post({ type: 'update', update })),
      service.onDidChangeSampling((on) => {
        if (!on) this.post({ type: 'paused', reason: 'Paused: the window is not focused and no run is active.' });
      }),
    );
  }

  /** Opens the panel, or reveals it when already open. */
  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(WEBVIEW_MONITOR, 'Resource Monitor', vscode.ViewColumn.Active, this.options());
    this.attach(panel);
  }

  /** Serializer entry: a panel VS Code restored after a reload. */
  attach(panel: vscode.WebviewPanel): void {
    this.panel?.dispose();
    this.panel = panel;
    this.ready = false;
    panel.webview.options = this.options();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icons', 'parallel-run.svg');
    panel.webview.html = this.html(panel.webview);
    this.panelSubs = [
      panel.webview.onDidReceiveMessage((m: MonitorFromWebview) => this.onMessage(m)),
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = false; // its document is gone; it says `ready` again when shown
        this.service.want('panel', panel.visible);
      }),
      panel.onDidDispose(() => {
        this.service.want('panel', false);
        this.panelSubs.forEach((d) => d.dispose());
        this.panelSubs = [];
        if (this.panel === panel) this.panel = undefined;
      }),
    ];
    this.service.want('panel', panel.visible);
  }

  isOpen(): boolean {
    return this.panel !== undefined;
  }

  rendered(): MonitorRendered | undefined {
    return this.lastRendered;
  }

  dispose(): void {
    this.panel?.dispose();
    this.subs.forEach((d) => d.dispose());
    this.renderedEmitter.dispose();
  }

  private onMessage(m: MonitorFromWebview): void {
    switch (m.type) {
      case 'ready': {
        this.ready = true;
        const update = this.service.latest() ?? this.service.refresh();
        this.send({ type: 'init', history: this.service.sampler.history(), intervalMs: this.service.sampler.interval, historyMs: 10 * 60_000, update });
        if (!this.service.sampling) this.send({ type: 'paused', reason: 'Paused: the window is not focused and no run is active.' });
        return;
      }
      case 'rendered':
        this.lastRendered = m.rendered;
        this.renderedEmitter.fire(m.rendered);
        return;
      default: {
        const never: never = m;
        throw new Error(`unknown monitor message ${JSON.stringify(never)}`);
      }
    }
  }

  private post(message: MonitorToWebview): void {
    if (this.panel && this.ready) this.send(message);
  }

  private send(message: MonitorToWebview): void {
    void this.panel?.webview.postMessage(message);
  }

  private options(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return shellOptions(this.extensionUri);
  }

  private html(webview: vscode.Webview): string {
    return webviewShell(webview, this.extensionUri, { title: 'Resource Monitor', script: 'monitorMain', styles: ['vendor/uPlot.min.css', 'monitor.css'] });
  }
}
