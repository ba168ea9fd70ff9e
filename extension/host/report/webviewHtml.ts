/** The report panel's HTML shell: the shared panel shell with the report's script and styles. */
import * as vscode from 'vscode';
import { shellOptions, webviewShell } from '../webviewShell';

export const webviewOptions = shellOptions;

export function reportHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  return webviewShell(webview, extensionUri, {
    title: 'Parallel Run report',
    script: 'reportMain',
    styles: ['vendor/uPlot.min.css', 'report.css'],
    liveRegion: false,
  });
}
