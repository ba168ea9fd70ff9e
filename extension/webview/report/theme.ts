/** Colours come from VS Code's CSS variables, re-read when the theme changes (light/dark/HC). */
import type { BarKind } from './model';

export interface Palette {
  fg: string;
  muted: string;
  grid: string;
  bg: string;
  border: string;
  /** high contrast themes: outline every bar */
  highContrast: boolean;
  bar: Record<BarKind, string>;
  accent: string;
  fit: string;
  ideal: string;
}

export function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export function readPalette(): Palette {
  const cls = document.body.classList;
  const highContrast = cls.contains('vscode-high-contrast') || cls.contains('vscode-high-contrast-light');
  return {
    fg: cssVar('--vscode-editor-foreground', cssVar('--vscode-foreground', '#333')),
    muted: cssVar('--vscode-descriptionForeground', '#717171'),
    grid: cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', '#8884')),
    bg: cssVar('--vscode-editor-background', '#fff'),
    border: cssVar('--vscode-contrastBorder', cssVar('--vscode-focusBorder', '#0078d4')),
    highContrast,
    accent: cssVar('--vscode-charts-blue', '#1a85ff'),
    fit: cssVar('--vscode-charts-purple', '#b180d7'),
    ideal: cssVar('--vscode-descriptionForeground', '#717171'),
    bar: {
      ok: cssVar('--vscode-charts-blue', '#1a85ff'),
      retried: cssVar('--vscode-charts-yellow', '#cca700'),
      failed: cssVar('--vscode-charts-red', '#e51400'),
      timedOut: cssVar('--vscode-charts-orange', '#d18616'),
      cancelled: cssVar('--vscode-disabledForeground', '#8888'),
      running: cssVar('--vscode-charts-green', '#388a34'),
    },
  };
}

/** Calls `fn` when VS Code switches theme (it swaps classes on <body> and the inline variables). */
export function onThemeChange(fn: () => void): void {
  const obs = new MutationObserver(() => fn());
  obs.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  obs.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
}
