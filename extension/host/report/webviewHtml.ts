/** The report panel's HTML shell (HOUSE rule 7): CSP default-src 'none', one nonce'd script, no data. */
import * as crypto from 'crypto';
import * as vscode from 'vscode';

export function localResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')];
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, enableCommandUris: false, localResourceRoots: localResourceRoots(extensionUri) };
}

export function reportHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  // fresh per page load: a nonce that never repeats cannot be guessed by injected markup
  const nonce = crypto.randomBytes(18).toString('base64');
  const uri = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...p)).toString();
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${uri('media', 'vendor', 'uPlot.min.css')}">
<link rel="stylesheet" href="${uri('media', 'report.css')}">
<title>Parallel Run report</title>
</head>
<body>
<main id="app"></main>
<script nonce="${nonce}" src="${uri('dist', 'webview', 'reportMain.js')}"></script>
</body>
</html>`;
}
