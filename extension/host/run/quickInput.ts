/**
 * The two shapes every question of the run flow takes: a list to pick from and a line to type. Both
 * are built on createQuickPick / createInputBox (not the show* shortcuts) so the flow behaves the same
 * whichever way a step is answered: by the keyboard, by a click, or by the integration tests, which
 * drive the very objects the user sees.
 */
import * as vscode from 'vscode';

/**
 * Shows a list; resolves with the accepted item (the selected one, else the active one), or undefined
 * when the list is closed.
 */
export async function pickItem<T extends vscode.QuickPickItem>(opts: { title: string; placeholder?: string; items: T[]; active?: T }): Promise<T | undefined> {
  const qp = vscode.window.createQuickPick<T>();
  qp.title = opts.title;
  qp.placeholder = opts.placeholder;
  qp.matchOnDescription = true;
  // keep the order given (a review is not sorted by what is typed)
  (qp as unknown as { sortByLabel: boolean }).sortByLabel = false;
  qp.items = opts.items;
  if (opts.active) qp.activeItems = [opts.active];
  const picked = await new Promise<T | undefined>((resolve) => {
    qp.onDidAccept(() => {
      const item = qp.selectedItems[0] ?? qp.activeItems[0];
      if (item && item.kind !== vscode.QuickPickItemKind.Separator) resolve(item);
    });
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  qp.dispose();
  return picked;
}

/**
 * A line to type. `check` returns an error (shown under the line, Enter refused) or a note (shown, Enter
 * allowed), or nothing; it runs as the user types and again on Enter (a value set without typing is
 * checked too). Resolves with the accepted text, or undefined when the box is closed.
 *
 * The error is shown as a warning, not an error: VS Code ignores Enter while an error shows, so a value
 * corrected without typing (set, pasted by a test) would be judged by the previous value's message;
 * here Enter always comes through and the value it carries is checked.
 */
export async function askLine(opts: {
  title: string;
  prompt: string;
  value?: string;
  placeholder?: string;
  check?: (text: string) => { error?: string; note?: string } | undefined;
}): Promise<string | undefined> {
  const box = vscode.window.createInputBox();
  box.title = opts.title;
  box.prompt = opts.prompt;
  box.value = opts.value ?? '';
  box.placeholder = opts.placeholder;
  box.ignoreFocusOut = true;
  const show = (text: string, quiet = false): boolean => {
    const r = opts.check?.(text);
    if (r?.error && quiet) box.validationMessage = undefined; // nothing typed yet: no complaint
    else if (r?.error) box.validationMessage = { message: r.error, severity: vscode.InputBoxValidationSeverity.Warning };
    else if (r?.note) box.validationMessage = { message: r.note, severity: vscode.InputBoxValidationSeverity.Info };
    else box.validationMessage = undefined;
    return !r?.error;
  };
  show(box.value, true);
  const text = await new Promise<string | undefined>((resolve) => {
    box.onDidChangeValue(show);
    box.onDidAccept(() => {
      if (show(box.value)) resolve(box.value);
    });
    box.onDidHide(() => resolve(undefined));
    box.show();
  });
  box.dispose();
  return text;
}
