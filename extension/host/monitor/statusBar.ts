/**
 * The always-on status bar item: `$(pulse) CPU 37% · RAM 9.1/24 GB` (`· 2/2 busy` during a run),
 * a Markdown tooltip with per-core bars, load, memory + swap, the cgroup note and the run's
 * processes, and the warning background past parallelRun.monitor.memoryWarningPercent.
 */
import * as vscode from 'vscode';
import { Commands } from '../../shared/ids';
import { statusText, tooltipMarkdown } from '../../shared/monitorFormat';
import type { MonitorUpdate } from '../../shared/protocol';
import type { MonitorService } from './monitorService';

/** What the item shows, as plain data (tests read it through services.monitor). */
export interface StatusBarState {
  visible: boolean;
  text: string;
  tooltip: string;
  warning: boolean;
  command: string | undefined;
}

export class MonitorStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subs: vscode.Disposable[] = [];
  private visible = false;
  private lastTooltip = '';

  constructor(private readonly service: MonitorService, enabled: boolean) {
    // an id lets users hide or move it from the status bar's context menu like any built-in item
    this.item = vscode.window.createStatusBarItem('parallelRun.monitor', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Parallel Run: CPU and RAM';
    this.item.command = Commands.showMonitor;
    this.subs.push(
      service.onDidUpdate((u) => this.render(u)),
      service.onDidChangeSampling(() => {
        const u = service.latest();
        if (u) this.render(u);
      }),
    );
    this.setEnabled(enabled);
  }

  setEnabled(enabled: boolean): void {
    this.visible = enabled;
    this.service.want('statusBar', enabled);
    if (!enabled) {
      this.item.hide();
      return;
    }
    // paint at once (even in a window that starts unfocused) instead of waiting for the first tick
    this.render(this.service.latest() ?? this.service.refresh());
    this.item.show();
  }

  state(): StatusBarState {
    const tip = this.item.tooltip;
    return {
      visible: this.visible,
      text: this.item.text,
      tooltip: typeof tip === 'string' ? tip : tip?.value ?? '',
      warning: this.item.backgroundColor !== undefined,
      command: typeof this.item.command === 'string' ? this.item.command : this.item.command?.command,
    };
  }

  dispose(): void {
    this.service.want('statusBar', false);
    this.subs.forEach((d) => d.dispose());
    this.item.dispose();
  }

  private render(u: MonitorUpdate): void {
    if (!this.visible) return;
    const text = statusText(u.sample, u.run);
    if (this.item.text !== text) this.item.text = text;
    const tooltip = tooltipMarkdown({ ...u, pausedSince: this.service.pausedSince });
    // every property set is a message to the renderer: only send what changed
    if (tooltip !== this.lastTooltip) {
      this.lastTooltip = tooltip;
      const md = new vscode.MarkdownString(tooltip, true);
      md.isTrusted = false;
      this.item.tooltip = md;
    }
    const warn = u.warning !== undefined;
    if (warn !== (this.item.backgroundColor !== undefined)) {
      this.item.backgroundColor = warn ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
      this.item.color = warn ? new vscode.ThemeColor('statusBarItem.warningForeground') : undefined;
    }
    this.item.accessibilityInformation = {
      label: `CPU ${Math.round(u.sample.cpu.total)} percent, memory ${Math.round(u.sample.memory.percent)} percent${warn ? ', memory warning' : ''}`,
      role: 'button',
    };
  }
}
