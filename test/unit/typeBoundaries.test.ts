/**
 * The two type programs keep each side to its own platform: a webview script cannot reach Node's
 * modules, and the Node side (core, host, workers, CLI) cannot touch the DOM. Checked by compiling a
 * small probe file with each tsconfig's real options.
 */
import * as assert from 'assert';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..', '..');

function diagnosticsFor(tsconfigDir: string, probeName: string, probeText: string): string[] {
  const configFile = path.join(ROOT, tsconfigDir, 'tsconfig.json');
  const read = ts.readConfigFile(configFile, ts.sys.readFile);
  assert.ok(!read.error, `cannot read ${configFile}`);
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(configFile));
  const probe = path.join(ROOT, tsconfigDir, probeName);
  const host = ts.createCompilerHost(parsed.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) =>
    path.resolve(name) === probe ? ts.createSourceFile(name, probeText, lang) : getSourceFile(name, lang, onError, create);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === probe || fileExists(name);
  const program = ts.createProgram([probe], { ...parsed.options, noEmit: true }, host);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('type boundaries (tsconfig per side)', function () {
  this.timeout(60_000);

  it('a webview script cannot import a Node module', () => {
    const msgs = diagnosticsFor('extension/webview', '__probe.ts', "import * as fs from 'fs';\nexport const x = fs.readFileSync('a');\n");
    assert.ok(msgs.some((m) => /Cannot find module 'fs'/.test(m)), msgs.join('\n'));
  });

  it('a webview script may use the DOM', () => {
    const msgs = diagnosticsFor('extension/webview', '__probe.ts', 'export const x: HTMLElement | null = document.body;\n');
    assert.deepStrictEqual(msgs, []);
  });

  it('the Node side cannot touch the DOM', () => {
    const msgs = diagnosticsFor('.', 'extension/core/__probe.ts', 'export const x = document.body;\n');
    assert.ok(msgs.some((m) => /Cannot find name 'document'/.test(m)), msgs.join('\n'));
  });

  it('the Node side may use Node modules', () => {
    const msgs = diagnosticsFor('.', 'extension/core/__probe.ts', "import * as fs from 'fs';\nexport const x = fs.existsSync('a');\n");
    assert.deepStrictEqual(msgs, []);
  });
});
