/**
 * Snippets: every contributed snippet expands (defaults accepted) to code that compiles — Python with
 * py_compile, shell with `bash -n`, TypeScript/JavaScript with the TypeScript parser — and the Python
 * ones are clean under our own diagnostics. The tutorial's Pool and Process examples, and the other
 * runnable snippets, run to completion with the real Python; the workerpool snippets run with Node.
 */
import * as assert from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import { SourceAnalyzer } from '../../extension/core/python/sourceAnalysis';
import { expandSnippet } from './snippetExpansion';

const ROOT = path.resolve(__dirname, '../../..');
const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();

interface Snippet { prefix: string | string[]; body: string | string[]; description: string }
type SnippetFile = Record<string, Snippet>;

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const contributed: Array<{ language: string; path: string }> = manifest.contributes.snippets;
function load(language: string): SnippetFile {
  const entry = contributed.find((s) => s.language === language);
  assert.ok(entry, `package.json contributes snippets for ${language}`);
  return JSON.parse(fs.readFileSync(path.join(ROOT, entry!.path), 'utf8')) as SnippetFile;
}
const VARS = { variables: { TM_FILENAME: 'script.py', TM_FILENAME_BASE: 'script' } };

/** Python snippets whose imports are not installed here (compiled, not run). */
const NEEDS_MISSING_PACKAGE = new Set(['joblib Parallel / delayed', 'threadpoolctl threadpool_limits']);

let tmp: string;
/** cores as Python counts them (the snippets' one-process-per-core default) */
const CORES = Number(spawnSync(PYTHON, ['-c', 'import multiprocessing; print(multiprocessing.cpu_count())'], { encoding: 'utf8' }).stdout);
function runPython(code: string, args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const file = path.join(tmp, `snippet_${Math.random().toString(36).slice(2)}.py`);
  fs.writeFileSync(file, code);
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.PYTHONUNBUFFERED;
  const r = spawnSync(PYTHON, [file, ...args], { encoding: 'utf8', cwd: tmp, timeout: 120_000, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('snippet expansion (VS Code syntax)', () => {
  it('accepts defaults, mirrors them, picks the first choice, fills variables, honours escapes', () => {
    assert.strictEqual(expandSnippet('def ${1:work}(x):\n    return $1(x) + ${2}'), 'def work(x):\n    return work(x) + ');
    assert.strictEqual(expandSnippet('${1:a ${2:b} c} $2'), 'a b c b');
    assert.strictEqual(expandSnippet('api="${1|blas,openmp|}" $1'), 'api="blas" blas');
    assert.strictEqual(expandSnippet('$TM_FILENAME ${TM_FILENAME_BASE} ${UNSET:dflt} $UNKNOWN', VARS), 'script.py script dflt UNKNOWN');
    assert.strictEqual(expandSnippet('cost \\$5 and \\} and \\\\ and $ alone'), 'cost $5 and } and \\ and $ alone');
    assert.strictEqual(expandSnippet('${1:Hello} ${1/(H)ello/$1i/}'), 'Hello Hi');
    assert.strictEqual(expandSnippet(['a', '$0b']), 'a\nb');
    assert.throws(() => expandSnippet('${1:unclosed'), /unclosed placeholder/);
  });
});

describe('contributed snippets', function () {
  this.timeout(300_000);
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-snippets-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('every snippet has one clear prefix (so it appears once in completion) and a description; prefixes unique per language', () => {
    for (const lang of ['python', 'shellscript', 'typescript', 'javascript']) {
      const file = load(lang);
      const seen = new Set<string>();
      assert.ok(Object.keys(file).length >= 3);
      for (const [name, s] of Object.entries(file)) {
        assert.strictEqual(typeof s.prefix, 'string', `${name}: one prefix, not ${JSON.stringify(s.prefix)}`);
        const prefixes = [s.prefix as string];
        for (const p of prefixes) {
          assert.match(p, /^[a-z][a-z0-9-]+$/, `${name}: prefix "${p}"`);
          assert.ok(!seen.has(p), `duplicate prefix ${p}`);
          seen.add(p);
        }
        assert.ok(s.description.length > 30, `${name} has a description`);
      }
    }
    const names = Object.keys(load('python'));
    for (const want of ['Process start/join over chunks', 'Pool with apply_async and get', 'Pool.map', 'Pool.imap_unordered with progress',
      'with Pool() as pool', 'ProcessPoolExecutor with as_completed', 'ThreadPoolExecutor with as_completed', 'threadpoolctl threadpool_limits',
      'BLAS env limits before import numpy', 'One-file script: main(path)', 'Shared state: Value, Array, Manager', 'joblib Parallel / delayed']) {
      assert.ok(names.includes(want), `python snippet "${want}"`);
    }
    // the shell and TypeScript/JavaScript snippets, by name
    assert.deepStrictEqual(Object.keys(load('shellscript')).sort(), ['GNU Parallel over files', 'Slurm job array over a file list', 'xargs -P over files']);
    for (const lang of ['typescript', 'javascript']) {
      assert.deepStrictEqual(Object.keys(load(lang)).sort(), ['workerpool: exec', 'workerpool: pool', 'workerpool: proxy', 'workerpool: worker file'], lang);
    }
  });

  it('the shared-state snippet asks first whether shared state is really needed, and says what to do instead', () => {
    const s = load('python')['Shared state: Value, Array, Manager'];
    assert.match(s.description, /do you really need shared state\?/i);
    const code = expandSnippet(s.body, VARS);
    const comment = code.split('\n').filter((l) => l.trim().startsWith('#')).join('\n');
    assert.match(comment, /really need shared state\?/i, 'the question is in the inserted code, where the user reads it');
    assert.match(comment, /Pool\.map/, 'and the alternative: return results from the workers');
    // the question comes before any shared object is created
    assert.ok(code.indexOf('really need') < code.search(/multiprocessing\.(Value|Array|Manager)\(/));
  });

  it('every Python snippet expands to code that compiles and that our diagnostics find clean', async () => {
    const analyzer = new SourceAnalyzer({ python: PYTHON, script: path.join(ROOT, 'media', 'python', 'analyze_source.py') });
    try {
      for (const [name, s] of Object.entries(load('python'))) {
        const code = expandSnippet(s.body, VARS);
        assert.ok(!/\$\{?\d/.test(code), `${name}: no placeholder left`);
        const file = path.join(tmp, 'compile_me.py');
        fs.writeFileSync(file, code);
        const r = spawnSync(PYTHON, ['-m', 'py_compile', file], { encoding: 'utf8' });
        assert.strictEqual(r.status, 0, `${name} does not compile:\n${r.stderr}\n${code}`);
        // fragments go inside the user's function: analyze them there
        const complete = /__main__/.test(code) || !/Pool\(/.test(code);
        const analyzed = complete ? code : `def use_fragment(process, items):\n    import multiprocessing\n${code.split('\n').map((l) => '    ' + l).join('\n')}\n`;
        const a = await analyzer.analyze(analyzed, { cores: 4 });
        assert.strictEqual(a.syntaxError, undefined, name);
        // pools default to the core count, so the extension's own thread lens never calls a snippet oversubscribed
        for (const pool of a.pools) {
          assert.ok(pool.processes.value === null || pool.processes.value <= 4, `${name}: ${pool.text} starts ${pool.processes.value} processes on 4 cores`);
        }
        assert.deepStrictEqual(a.diagnostics.map((d) => `${d.code}: ${d.message}`), [], `${name} triggers our own diagnostics`);
      }
    } finally {
      analyzer.dispose();
    }
  });

  it("the tutorial's Process example (from the snippet) runs: one chunk per core, each of its share of the rows", () => {
    const r = runPython(expandSnippet(load('python')['Process start/join over chunks'].body, VARS));
    assert.strictEqual(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').sort();
    assert.strictEqual(lines.length, CORES);
    for (let i = 0; i < CORES; i++) assert.ok(lines.includes(`Process ${i} complete (${Math.floor(1000 / CORES)}, 1000)`), `chunk ${i}: ${r.stdout}`);
  });

  it("the tutorial's Pool example (from the snippet) runs: ten results of shape (100, 1000), in order", () => {
    const r = runPython(expandSnippet(load('python')['Pool with apply_async and get'].body, VARS));
    assert.strictEqual(r.status, 0, r.stderr);
    assert.deepStrictEqual(r.stdout.trim().split('\n'), Array.from({ length: 10 }, (_, i) => `Result ${i} (100, 1000)`));
  });

  it('the other runnable Python snippets run to completion', () => {
    const py = load('python');
    const data = path.join(tmp, 'input.txt');
    fs.writeFileSync(data, 'twelve bytes');
    const expectations: Array<[string, string[], RegExp]> = [
      ['Pool.map', [], /^100 results$/m],
      ['Pool.imap_unordered with progress', [data, data, data], /3\/3 done/],
      ['ProcessPoolExecutor with as_completed', [], /^99 9801$/m],
      ['ThreadPoolExecutor with as_completed', [], /^a a$/m],
      ['One-file script: main(path)', [data], new RegExp(`^${data.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} 12$`, 'm')],
      // one process per core: n = the core count
      ['Shared state: Value, Array, Manager', [], new RegExp(`^\\{'done': ${CORES}\\} \\[${Array.from({ length: CORES }, (_, i) => `${i * i}\\.0`).join(', ')}\\]$`, 'm')],
      ['BLAS env limits before import numpy', [], /^$/],
    ];
    for (const [name, args, want] of expectations) {
      const r = runPython(expandSnippet(py[name].body, VARS), args);
      assert.strictEqual(r.status, 0, `${name}:\n${r.stderr}`);
      assert.match(r.stdout + r.stderr, want, `${name} output`);
    }
    for (const name of Object.keys(py)) {
      assert.ok(expectations.some(([n]) => n === name) || NEEDS_MISSING_PACKAGE.has(name) || /chunks|apply_async|with Pool/.test(name), `${name} is run or explained`);
    }
  });

  it('every shell snippet passes bash -n', () => {
    for (const [name, s] of Object.entries(load('shellscript'))) {
      const code = expandSnippet(s.body, VARS);
      const r = spawnSync('bash', ['-n'], { input: code, encoding: 'utf8' });
      assert.strictEqual(r.status, 0, `${name}:\n${r.stderr}\n${code}`);
    }
    const slurm = expandSnippet(load('shellscript')['Slurm job array over a file list'].body, VARS);
    assert.match(slurm, /^#SBATCH --array=1-100%20$/m);
    assert.match(slurm, /sed -n "\$\{SLURM_ARRAY_TASK_ID\}p" files\.txt/);
  });

  it('every TypeScript/JavaScript snippet parses, and the workerpool pool + worker snippets run', () => {
    const file = load('typescript');
    assert.deepStrictEqual(file, load('javascript'));
    for (const [name, s] of Object.entries(file)) {
      let code = expandSnippet(s.body, VARS);
      if (/await/.test(code) && !/async function/.test(code)) code = `async function fragment(pool: any, item: any) {\n${code}\n}`;
      const out = ts.transpileModule(code, { reportDiagnostics: true, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
      assert.deepStrictEqual((out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')), [], name);
    }
    const cjs = (code: string) => ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
    const dir = fs.mkdtempSync(path.join(tmp, 'wp-'));
    fs.writeFileSync(path.join(dir, 'worker.js'), cjs(expandSnippet(file['workerpool: worker file'].body)));
    fs.writeFileSync(path.join(dir, 'main.js'), cjs(expandSnippet(file['workerpool: pool'].body)) + '\nrunAll([1, 2, 3]).then((r) => console.log(JSON.stringify(r)));\n');
    const r = spawnSync(process.execPath, [path.join(dir, 'main.js')], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') } });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(r.stdout.trim(), '[2,4,6]');
  });
});
