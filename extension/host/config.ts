/** The one place that reads `getConfiguration`: validated once, re-emitted on change. */
import * as vscode from 'vscode';
import { CONFIG_SECTION } from '../shared/ids';
import { ParallelRunSettings, settingIn, SettingsError, validateSettings } from '../core/settings';

export class Config implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<ParallelRunSettings>();
  /** Fires with the new settings after a valid change. */
  readonly onDidChange = this.emitter.event;
  private readonly sub: vscode.Disposable;
  private cache: ParallelRunSettings | undefined;

  constructor() {
    this.sub = vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(CONFIG_SECTION)) return;
      this.cache = undefined;
      try {
        this.emitter.fire(this.get());
      } catch (err) {
        showError(err);
      }
    });
  }

  /** Current settings; throws SettingsError naming the bad key. */
  get(scope?: vscode.Uri): ParallelRunSettings {
    if (scope) return validateSettings(rawSection(scope));
    if (!this.cache) this.cache = validateSettings(rawSection());
    return this.cache;
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }
}

function rawSection(scope?: vscode.Uri): Record<string, unknown> {
  const cfg = vscode.workspace.getConfiguration(CONFIG_SECTION, scope);
  // getConfiguration returns a proxy; JSON round trip gives the plain nested object the validator expects.
  return JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>;
}

export function messageOf(err: unknown): string {
  if (err instanceof SettingsError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export const OPEN_SETTING = 'Open Setting';

/**
 * Shows an error to the user, `prefix: message`; when it names a setting, with an "Open Setting"
 * button that opens the Settings editor on it. The one way commands report an error.
 */
export function showError(err: unknown, prefix?: string): void {
  const text = prefix ? `${prefix}: ${messageOf(err)}` : messageOf(err);
  const setting = err instanceof SettingsError ? `${CONFIG_SECTION}.${err.key}` : settingIn(messageOf(err));
  if (!setting) {
    void vscode.window.showErrorMessage(text);
    return;
  }
  void vscode.window.showErrorMessage(text, OPEN_SETTING).then((pick) => {
    if (pick === OPEN_SETTING) void vscode.commands.executeCommand('workbench.action.openSettings', setting);
  });
}
