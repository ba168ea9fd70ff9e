/** Workspace Trust: nothing that starts a process runs in an untrusted workspace. */
import * as vscode from 'vscode';
import { setProcessGate } from '../core/processGate';
import type { Services } from './services';

const MANAGE = 'Manage Workspace Trust';

/** The log channel, once register() ran: every refusal is also one line there (what was refused, and why). */
let log: vscode.LogOutputChannel | undefined;

/** The message a refused command shows (and logs). */
export function notTrustedMessage(what: string): string {
  return (
    `Parallel Run cannot ${what}: this workspace is not trusted, and running it would execute code from it. ` +
    `Trust it with "${MANAGE}"; run history and reports stay available.`
  );
}

/** A command refused in an untrusted workspace; requireTrust() has already told the user and offered the fix. */
export class NotTrustedError extends Error {
  constructor(what = 'run scripts') {
    super(notTrustedMessage(what));
    this.name = 'NotTrustedError';
  }
}

/**
 * Returns true when trusted. Otherwise shows why (with a "Manage Workspace Trust" action) and returns
 * false AT ONCE: the notification is not awaited, so a refused command ends immediately instead of
 * hanging until someone clicks (or closes) the message.
 */
export function requireTrust(what: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  const message = notTrustedMessage(what);
  log?.warn(message);
  void vscode.window.showWarningMessage(message, MANAGE).then((pick) => {
    if (pick === MANAGE) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}

/**
 * Closes the core's process gate while the workspace is untrusted: whatever a feature reads from the
 * workspace (a report naming an interpreter, a restored panel, a crafted Slurm submission), nothing
 * below it can start a process. Each refused kind is logged once (features that ask passively, like
 * the report's BLAS label, must not fill the log).
 */
function installProcessGate(context: vscode.ExtensionContext): void {
  const logged = new Set<string>();
  setProcessGate((what) => {
    if (vscode.workspace.isTrusted) return undefined;
    const message = notTrustedMessage(what);
    if (!logged.has(what)) {
      logged.add(what);
      log?.warn(message);
    }
    return message;
  });
  context.subscriptions.push({ dispose: () => setProcessGate(undefined) });
}

/** Logs the trust state at start and when the user grants trust (the change takes effect at once). */
export function register(context: vscode.ExtensionContext, services: Services): void {
  log = services.log;
  context.subscriptions.push({ dispose: () => { log = undefined; } });
  installProcessGate(context);
  if (!vscode.workspace.isTrusted) {
    services.log.info('Workspace not trusted: run history and reports are available; running scripts is off until you trust the workspace.');
  }
  context.subscriptions.push(
    vscode.workspace.onDidGrantWorkspaceTrust(() => services.log.info('Workspace trusted: Parallel Run can run scripts now.')),
  );
}
