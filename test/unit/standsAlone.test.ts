/**
 * The repository stands alone: its code, comments and docs explain themselves, with no pointer to
 * files outside it and no reference to the tracker's issue numbers (history belongs in git).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DIRS = ['extension', 'test', 'scripts', 'bench', 'media', '.ci', '.vscode', 'example'];
const FILES = ['README.md', 'CONTRIBUTING.md', 'ARCHITECTURE.md', 'package.json', 'webpack.config.js', 'tsconfig.json'];
const TEXT = /\.(ts|js|py|md|json|sh|css|html|code-snippets|ya?ml|txt)$/;
const BAD: Array<[RegExp, string]> = [
  [/\b[Ii]ssue #?\d+\b/, 'an issue number'],
  [/\bHOUSE(\.md| rule)/, 'an outside rules file'],
  [/\.\.\/shared\/(reference|seed|HOUSE)/, 'a path outside the repository'],
];

function* walk(dir: string): Generator<string> {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === '__pycache__' || e.name.startsWith('.vscode-test')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (TEXT.test(e.name)) yield p;
  }
}

describe('the repository stands alone', () => {
  it('no issue numbers and no pointers outside the repository in code, comments or docs', () => {
    const found: string[] = [];
    const files = [...DIRS.flatMap((d) => [...walk(path.join(ROOT, d))]), ...FILES.map((f) => path.join(ROOT, f)).filter((f) => fs.existsSync(f))];
    assert.ok(files.length > 100, `scanned ${files.length} files`);
    for (const f of files) {
      if (f === __filename.replace(/\.js$/, '.ts') || f.endsWith(path.join('unit', 'standsAlone.test.ts'))) continue;
      const lines = fs.readFileSync(f, 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const [re, what] of BAD) if (re.test(line)) found.push(`${path.relative(ROOT, f)}:${i + 1}: ${what}: ${line.trim().slice(0, 100)}`);
      });
    }
    assert.deepStrictEqual(found, []);
  });
});
