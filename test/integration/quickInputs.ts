/**
 * Drives the run flow's questions the way a user answers them. The extension and these tests share one
 * `vscode` API object, so wrapping createQuickPick / createInputBox records each real quick input as the
 * extension creates it (it still shows, unchanged); the test then reads its title, items and messages,
 * makes an item active or types a value, and accepts with the workbench's own command (Enter).
 */
import * as vscode from 'vscode';
import { waitFor } from './runHelpers';

export type QuickInput = vscode.QuickPick<vscode.QuickPickItem> | vscode.InputBox;

export function isPick(q: QuickInput): q is vscode.QuickPick<vscode.QuickPickItem> {
  return 'items' in q;
}

export interface QuickInputDriver {
  /** every quick input created since watching began, in order */
  readonly created: QuickInput[];
  /** the next quick input not yet taken (waits for the extension to create it) */
  next(what: string): Promise<QuickInput>;
  /** the next one, which must be a list titled like `title` */
  nextPick(title: RegExp): Promise<vscode.QuickPick<vscode.QuickPickItem>>;
  /** the next one, which must be an input box titled like `title` */
  nextBox(title: RegExp): Promise<vscode.InputBox>;
  /** the labels of a list, once it is not busy */
  labels(qp: vscode.QuickPick<vscode.QuickPickItem>): Promise<string[]>;
  /** makes the item whose label matches active and presses Enter */
  pick(qp: vscode.QuickPick<vscode.QuickPickItem>, label: RegExp): Promise<vscode.QuickPickItem>;
  /** types `value` into the box and presses Enter */
  type(box: vscode.InputBox, value: string): Promise<void>;
  dispose(): void;
}

export function watchQuickInputs(): QuickInputDriver {
  const w = vscode.window as unknown as { createQuickPick: typeof vscode.window.createQuickPick; createInputBox: typeof vscode.window.createInputBox };
  const createPick = w.createQuickPick;
  const createBox = w.createInputBox;
  const created: QuickInput[] = [];
  let taken = 0;
  w.createQuickPick = function (this: unknown) {
    const qp = createPick.call(this) as vscode.QuickPick<vscode.QuickPickItem>;
    created.push(qp);
    return qp;
  } as typeof vscode.window.createQuickPick;
  w.createInputBox = function (this: unknown) {
    const box = createBox.call(this) as vscode.InputBox;
    created.push(box);
    return box;
  } as typeof vscode.window.createInputBox;

  // the extension host sends a quick input's changes to the workbench on a zero-delay timer: let that
  // timer run first, so Enter reaches the workbench after the item made active or the value typed
  const enter = async () => {
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setImmediate(r));
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
  };
  const driver: QuickInputDriver = {
    created,
    async next(what) {
      const q = await waitFor(what, () => created[taken], 60_000);
      taken++;
      return q;
    },
    async nextPick(title) {
      const q = await driver.next(`a list titled ${title}`);
      if (!isPick(q) || !title.test(q.title ?? '')) throw new Error(`expected a list titled ${title}, got ${isPick(q) ? 'a list' : 'an input box'} titled "${q.title}"`);
      return q;
    },
    async nextBox(title) {
      const q = await driver.next(`an input box titled ${title}`);
      if (isPick(q) || !title.test(q.title ?? '')) throw new Error(`expected an input box titled ${title}, got ${isPick(q) ? 'a list' : 'an input box'} titled "${q.title}"`);
      return q;
    },
    async labels(qp) {
      await waitFor(`"${qp.title}" to settle`, () => !qp.busy && qp.items.length > 0, 60_000);
      return qp.items.map((i) => i.label);
    },
    async pick(qp, label) {
      const item = await waitFor(`an item ${label} in "${qp.title}"`, () => !qp.busy && qp.items.find((i) => label.test(i.label)), 60_000);
      qp.activeItems = [item];
      await enter();
      return item;
    },
    async type(box, value) {
      box.value = value;
      await enter();
    },
    dispose() {
      w.createQuickPick = createPick;
      w.createInputBox = createBox;
    },
  };
  return driver;
}
