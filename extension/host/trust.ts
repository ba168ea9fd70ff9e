/** Workspace Trust: nothing that starts a process runs in an untrusted workspace. */
import * as vscode from 'vscode';

/** Returns true when trusted; otherwise explains why and offers to manage trust. */
export async function requireTrust(what: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const manage = 'Manage Workspace Trust';
  const pick = await vscode.window.showWarningMessage(
    `Parallel Run cannot ${what}: this workspace is not trusted, and running it would execute code from it. ` +
      'Run history and reports stay available.',
    manage,
  );
  if (pick === manage) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}
