import * as assert from 'assert';
import * as vscode from 'vscode';
import { Commands, EXTENSION_ID } from '../../extension/shared/ids';

describe('extension in the real VS Code extension host', () => {
  it('activates and returns its services', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} not found`);
    const api = await ext.activate();
    assert.ok(api.config, 'services.config missing');
    assert.strictEqual(typeof process.versions.node, 'string');
  });

  it('registers every contributed command', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    const missing = Object.values(Commands).filter((c) => !all.has(c));
    assert.deepStrictEqual(missing, [], `commands declared but not registered: ${missing.join(', ')}`);
  });

  it('opened the fixture workspace', () => {
    assert.strictEqual(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath, process.env.PR_TEST_WORKSPACE);
  });
});
