/**
 * A self-contained HTML report: the built panel script and CSS inlined, the data embedded as inert
 * JSON (<script type="application/json">, read with JSON.parse), a strict CSP (nothing but the
 * inlined script and styles, selected by nonce; no network at all). Opens in any browser, offline.
 * No `vscode` import: unit-tested in Node and opened in headless Chromium by the E2E tests.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { EmbeddedReport, ReportSubject } from '../../shared/protocol';

export interface ExportAssets {
  /** dist/webview/reportMain.js */
  script: string;
  /** stylesheets in order (uPlot's, then ours) */
  styles: string[];
}

/** Reads the built assets from the extension's dist/ and media/ folders. */
export async function loadExportAssets(distDir: string, mediaDir: string): Promise<ExportAssets> {
  const scriptFile = path.join(distDir, 'webview', 'reportMain.js');
  const script = await fs.promises.readFile(scriptFile, 'utf8').catch(() => {
    throw new Error(`Cannot export: the report script ${scriptFile} is missing. Rebuild the extension (npm run build).`);
  });
  const styles = await Promise.all([path.join(mediaDir, 'vendor', 'uPlot.min.css'), path.join(mediaDir, 'report.css')].map((f) => fs.promises.readFile(f, 'utf8')));
  return { script, styles };
}

/** Text that may sit inside <script>…</script> without ending it or opening an HTML comment. */
export function escapeScriptText(js: string): string {
  return js
    .replace(/\/\/# sourceMappingURL=.*$/gm, '') // no request for a map file next to the export
    .replace(/<\/(script)/gi, '<\\/$1')
    .replace(/<!--/g, '<\\!--');
}

/** JSON that may sit inside <script type="application/json"> (every "<" escaped; JSON.parse undoes it). */
export function escapeJsonForHtml(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function exportTitle(data: EmbeddedReport): string {
  if (data.kind === 'compare') return `Parallel Run — ${data.a.report.label || data.a.report.runId} vs ${data.b.report.label || data.b.report.runId}`;
  return `Parallel Run — ${data.subject.report.label || data.subject.report.runId}`;
}

/** The whole HTML document. */
export function buildStandaloneHtml(data: EmbeddedReport, assets: ExportAssets): string {
  const nonce = crypto.randomBytes(16).toString('base64');
  // run directories are local paths of the machine that exported: drop them from the file
  const strip = (s: ReportSubject): ReportSubject => ({ report: s.report, sweep: s.sweep, results: s.results });
  const embedded: EmbeddedReport = data.kind === 'compare' ? { kind: 'compare', a: strip(data.a), b: strip(data.b) } : { kind: 'run', subject: strip(data.subject) };
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src data:; base-uri 'none'; form-action 'none'`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>${escapeHtmlText(exportTitle(data))}</title>`,
    ...assets.styles.map((css) => `<style nonce="${nonce}">\n${css.replace(/<\/(style)/gi, '<\\/$1')}\n</style>`),
    '</head>',
    '<body class="standalone">',
    '<main id="app"></main>',
    `<script type="application/json" id="report-data">${escapeJsonForHtml(embedded)}</script>`,
    `<script nonce="${nonce}">\n${escapeScriptText(assets.script)}\n</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
