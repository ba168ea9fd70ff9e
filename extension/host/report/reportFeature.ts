/**
 * The report feature's code, loaded on its first use (report/index.ts): the report panels, Compare
 * Runs, Export Report.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { listRuns, readReport } from '../../core/run/history';
import type { RunHandle, RunReport, RunSummary } from '../../core/run/types';
import { Commands } from '../../shared/ids';
import type { EmbeddedReport } from '../../shared/protocol';
import type { CommandTable } from '../commands';
import type { Services } from '../services';
import type { ExportResult } from './index';
import { buildStandaloneHtml, loadExportAssets } from './exportHtml';
import { malformedReason } from './checkMessage';
import { readResults, ReportPanel, ReportPanels, runDirOf } from './reportPanels';
import { readSweep } from './sweepFile';

/** What report/index.ts gets when this module loads. */
export interface ReportFeature {
  panels: ReportPanels;
  exportReport(source: string | ReportPanel, format: 'html' | 'json', target: string): Promise<ExportResult>;
  commands: CommandTable;
}

export function createReportFeature(context: vscode.ExtensionContext, services: Services): ReportFeature {
  const panels = new ReportPanels(services);
  context.subscriptions.push(panels);

  const exportReport = async (source: string | ReportPanel, format: 'html' | 'json', target: string): Promise<ExportResult> => {
    const data = await embeddedFor(source);
    let text: string;
    if (format === 'json') {
      text = JSON.stringify(data.kind === 'compare' ? { a: data.a.report, b: data.b.report } : data.subject.report, null, 2) + '\n';
    } else {
      text = buildStandaloneHtml(data, await loadExportAssets(services.distDir, services.mediaDir));
    }
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    await fs.promises.writeFile(target, text, 'utf8');
    return { target, format, bytes: Buffer.byteLength(text) };
  };

  const commands: CommandTable = {
    [Commands.compareRuns]: async (a?: unknown, b?: unknown) => {
      // from the Runs view with several runs selected: (clicked item, all selected items)
      let dirA = runDirOf(a);
      let dirB = Array.isArray(b) ? b.map(runDirOf).find((d) => d && d !== dirA) : runDirOf(b);
      if (!dirA) dirA = await pickRun(services, 'Compare runs: pick the baseline run (A)');
      if (!dirA) return undefined;
      if (!dirB) dirB = await pickRun(services, `Compare with ${path.basename(dirA)}: pick the other run (B)`, dirA);
      if (!dirB) return undefined;
      const p = await panels.compare(dirA, dirB);
      return { a: dirA, b: dirB, title: p.panel.title };
    },
    [Commands.exportReport]: async (arg?: unknown, opts?: { format?: 'html' | 'json'; target?: string }) => {
      const o = (arg && typeof arg === 'object' ? arg : {}) as { panel?: ReportPanel; format?: 'html' | 'json'; target?: string };
      const format0 = opts?.format ?? o.format;
      const target0 = opts?.target ?? o.target;
      let source: string | ReportPanel | undefined = o.panel instanceof ReportPanel ? o.panel : runDirOf(arg);
      if (!source) source = panels.active() ?? (await pickRun(services, 'Export report: pick a run'));
      if (!source) return undefined;
      const format =
        format0 ??
        (
          await vscode.window.showQuickPick(
            [
              { label: 'HTML', description: 'one self-contained file: opens in any browser, offline', format: 'html' as const },
              { label: 'JSON', description: 'the report data (report.json)', format: 'json' as const },
            ],
            { title: 'Export report as' },
          )
        )?.format;
      if (!format) return undefined;
      let target = target0;
      if (!target) {
        const data = await embeddedFor(source);
        const name = data.kind === 'compare' ? `compare-${data.a.report.runId}-${data.b.report.runId}` : `report-${data.subject.report.runId}`;
        const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
        const uri = await vscode.window.showSaveDialog({
          title: 'Export report',
          defaultUri: folder ? vscode.Uri.joinPath(folder, `${name}.${format}`) : undefined,
          filters: format === 'html' ? { HTML: ['html'] } : { JSON: ['json'] },
        });
        if (!uri) return undefined;
        target = uri.fsPath;
      }
      const result = await exportReport(source, format, target);
      if (!target0) {
        void vscode.window.showInformationMessage(`Report exported to ${result.target}`, 'Reveal').then((pick) => {
          if (pick) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(result.target));
        });
      }
      return result;
    },
  };
  return { panels, exportReport, commands };
}

/** What to export: a panel's current content or a run directory's report (+ sweep). */
async function embeddedFor(source: string | ReportPanel): Promise<EmbeddedReport> {
  let data: EmbeddedReport;
  if (source instanceof ReportPanel) {
    const s = source.subjects();
    if (!s) throw new Error('Nothing to export: this panel has no report loaded yet.');
    data = s;
  } else {
    const [report, sweep, results] = await Promise.all([readReport(source), readSweep(source), readResults(source)]);
    if (!report) throw new Error(`Cannot export: ${source} has no report yet (the run is still going or never started). Wait for it to finish, or resume it.`);
    data = { kind: 'run', subject: { report, runDir: source, sweep, results } };
  }
  // an exported file is opened in a browser: the same bounds as the panel
  const malformed = malformedReason(data.kind === 'compare' ? { type: 'compare', a: data.a, b: data.b } : { type: 'report', subject: data.subject, live: false });
  if (malformed) throw new Error(`Cannot export: ${malformed}`);
  return data;
}

/** Runs of every workspace folder, newest first, in a quick pick. */
async function pickRun(services: Services, title: string, exclude?: string): Promise<string | undefined> {
  const runs = services.runs;
  const items: Array<vscode.QuickPickItem & { dir: string; t: number }> = [];
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const root = runs ? runs.runsDir(folder) : path.resolve(folder.uri.fsPath, services.config.get(folder.uri).runsDirectory);
    const list: RunSummary[] = await listRuns(root).catch(() => []);
    for (const s of list) {
      const dir = s.dir ?? s.runDir;
      if (exclude && path.resolve(dir) === path.resolve(exclude)) continue;
      items.push({
        label: s.label || s.runId,
        description: `${s.status} · ${s.counts.done} files · ${s.workers} × ${s.threads}`,
        detail: `${new Date(s.startedAt).toLocaleString()} · ${s.commandLabel}`,
        dir,
        t: s.startedAt,
      });
    }
  }
  if (items.length === 0) {
    void vscode.window.showInformationMessage('No runs yet: start one with "Parallel Run: Run Script over Files…".');
    return undefined;
  }
  items.sort((a, b) => b.t - a.t);
  return (await vscode.window.showQuickPick(items, { title, matchOnDescription: true, matchOnDetail: true }))?.dir;
}
