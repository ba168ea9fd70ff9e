/**
 * The HTML shell every panel uses: CSP default-src 'none', one script allowed by a
 * fresh nonce, styles and images only from the extension, and no data in the markup — data travels
 * by postMessage. Panels name their script (dist/webview/<name>.js) and stylesheets (media/...).
 */
import * as crypto from 'crypto';
import * as vscode from 'vscode';

export interface ShellOptions {
  title: string;
  /** bundle name under dist/webview, e.g. 'monitorMain' */
  script: string;
  /** paths under media/, in order */
  styles: string[];
  /** announce changes of the app element to screen readers (default true) */
  liveRegion?: boolean;
}

/** Scripts on; resources only from the built webview folder and media/; no command links. */
export function shellOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export function webviewShell(webview: vscode.Webview, extensionUri: vscode.Uri, opts: ShellOptions): string {
  // fresh per page load: a nonce that never repeats cannot be guessed by injected markup
  const nonce = crypto.randomBytes(18).toString('base64');
  const uri = (...p: string[]): string => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...p)).toString();
  const csp = `default-src 'none'; img-src ${webview.cspSource} data:; style-src ${webview.cspSource}; font-src ${webview.cspSource}; script-src 'nonce-${nonce}'`;
  const links = opts.styles.map((s) => `<link rel="stylesheet" href="${uri('media', ...s.split('/'))}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${links}
<title>${opts.title.replace(/[<>&"]/g, '')}</title>
</head>
<body>
<main id="app"${opts.liveRegion === false ? '' : ' aria-live="polite"'}></main>
<script nonce="${nonce}" src="${uri('dist', 'webview', `${opts.script}.js`)}"></script>
</body>
</html>`;
}
