/**
 * Input tuples: combination (product, last source fastest), linking (zip, the shortest sets the length), --colsep,
 * --header, --grid lists and exact ranges, replacement strings for tuples, keys and log names, and
 * every bad input named with its fix. The command lines are also compared with the real GNU Parallel
 * on hostile values (spaces, quotes, $(...), ;, empty fields).
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openSource } from '../../extension/core/run/fileSources';
import { gridFunctions } from '../../extension/core/python/gridFunctions';
import { inputsFromArgs, parseRunArgs } from '../../extension/cli/run';
import {
  experimentInputs,
  expandTuple,
  flowInputs,
  namesUsed,
  splitArguments,
  InputsSpec,
  readParamsTable,
  namedValues,
  parseGrid,
  rangeValues,
  readInputs,
  tupleKey,
  tupleLabel,
  tupleLogPart,
  validateTupleTemplate,
} from '../../extension/core/run/inputs';
import { UsageError } from '../../extension/core/run/types';

async function all(spec: InputsSpec): Promise<{ tuples: string[][]; names: Array<string | undefined>; resultNames: string[]; count: number }> {
  const i = await readInputs(spec, openSource);
  return { tuples: [...i.tuples()], names: i.layout.names, resultNames: i.layout.resultNames, count: i.count };
}

async function usageError(spec: InputsSpec, re: RegExp): Promise<void> {
  await assert.rejects(readInputs(spec, openSource), (e: Error) => e instanceof UsageError && re.test(e.message), `expected a UsageError matching ${re}`);
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pr-inputs-'));
}

describe('inputs: combining sources as GNU Parallel does', () => {
  it('is the product, the last source varying fastest', async () => {
    const r = await all({ sources: [{ kind: 'values', values: ['a', 'b'] }, { kind: 'values', values: ['1', '2', '3'] }] });
    assert.deepStrictEqual(r.tuples, [['a', '1'], ['a', '2'], ['a', '3'], ['b', '1'], ['b', '2'], ['b', '3']]);
    assert.strictEqual(r.count, 6);
    assert.deepStrictEqual(r.resultNames, ['input1', 'input2']);
  });

  it('links a source to the one before (zip); the shortest sets the length (GNU Parallel\'s :::+)', async () => {
    const zip = await all({ sources: [{ kind: 'values', values: ['a', 'b', 'c'] }, { kind: 'values', values: ['1', '2', '3'], link: true }] });
    assert.deepStrictEqual(zip.tuples, [['a', '1'], ['b', '2'], ['c', '3']]);
    const short = await all({ sources: [{ kind: 'values', values: ['a', 'b', 'c'] }, { kind: 'values', values: ['1', '2'], link: true }, { kind: 'values', values: ['x', 'y'] }] });
    assert.deepStrictEqual(short.tuples.map((t) => t.join('')), ['a1x', 'a1y', 'b2x', 'b2y']);
  });

  it('splits columns with --colsep (a regular expression) and names them with --header :', async () => {
    const d = tmp();
    const table = path.join(d, 't.tsv');
    fs.writeFileSync(table, 'mu\tsigma\r\n0.5\t1\n1.5\t2\n');
    const r = await all({ sources: [{ kind: 'table', path: table }, { kind: 'grid', name: 'seed', values: ['1', '2'] }], colsep: '\t', header: true });
    assert.deepStrictEqual(r.names, ['mu', 'sigma', 'seed']);
    assert.deepStrictEqual(r.tuples, [['0.5', '1', '1'], ['0.5', '1', '2'], ['1.5', '2', '1'], ['1.5', '2', '2']]);
    const re = await all({ sources: [{ kind: 'values', values: ['a  b', 'c d'] }], colsep: ' +' });
    assert.deepStrictEqual(re.tuples, [['a', 'b'], ['c', 'd']]);
    // GNU Parallel's --header : on ::: sources: the first value names the column
    const h = await all({ sources: [{ kind: 'values', values: ['x', '1', '2'] }, { kind: 'values', values: ['y', 'p'] }], header: true });
    assert.deepStrictEqual(h.names, ['x', 'y']);
    assert.deepStrictEqual(h.tuples, [['1', 'p'], ['2', 'p']]);
  });

  it('names a single file source "file" in results, and combines it with a grid', async () => {
    const d = tmp();
    for (const n of ['a.txt', 'b.txt']) fs.writeFileSync(path.join(d, n), n);
    const r = await all({ sources: [{ kind: 'files', source: { kind: 'globs', patterns: ['*.txt'], cwd: d } }, { kind: 'grid', name: 'k', values: ['1', '2'] }] });
    assert.deepStrictEqual(r.resultNames, ['file', 'k']);
    assert.deepStrictEqual(r.tuples.map((t) => t.join(':')).sort(), ['a.txt:1', 'a.txt:2', 'b.txt:1', 'b.txt:2']);
  });

  it('generates a big grid lazily', async () => {
    const i = await readInputs({ sources: [{ kind: 'grid', name: 'a', values: rangeValues('1:1000') }, { kind: 'grid', name: 'b', values: rangeValues('1:1000') }] }, openSource);
    assert.strictEqual(i.count, 1_000_000);
    const it = i.tuples();
    it.next();
    assert.deepStrictEqual(it.next().value, ['1', '2']);
  });
});

describe('inputs: --grid values', () => {
  it('gives exact inclusive ranges written as a person would', () => {
    assert.deepStrictEqual(rangeValues('0:1:0.1'), ['0', '0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9', '1']);
    assert.deepStrictEqual(rangeValues('1:10:3'), ['1', '4', '7', '10']);
    assert.deepStrictEqual(rangeValues('1:2'), ['1', '2']);
    assert.deepStrictEqual(rangeValues('1:-1:-0.5'), ['1', '0.5', '0', '-0.5', '-1']);
    assert.deepStrictEqual(rangeValues('-0.3:0.3:0.15'), ['-0.3', '-0.15', '0', '0.15', '0.3']);
    assert.deepStrictEqual(rangeValues('1e-3:3e-3:1e-3'), ['0.001', '0.002', '0.003']);
    assert.deepStrictEqual(rangeValues('0:0.95:0.1').length, 10, 'STOP not reached by a whole step is left out');
    assert.strictEqual(rangeValues('0:100:0.01').length, 10001);
    assert.strictEqual(rangeValues('0:100:0.01')[2900], '29');
  });

  it('reads lists and ranges, and names the problem of a bad one', () => {
    assert.deepStrictEqual(parseGrid('sigma=1, 2,5'), { name: 'sigma', values: ['1', '2', '5'] });
    assert.deepStrictEqual(parseGrid('mu=0:1:0.5'), { name: 'mu', values: ['0', '0.5', '1'] });
    assert.deepStrictEqual(parseGrid('model=a:b'), { name: 'model', values: ['a:b'] }, 'not numbers: one value');
    const bad: Array<[string, RegExp]> = [
      ['mu', /no "="/],
      ['1mu=1', /cannot be used as \{1mu\}/],
      ['mu=', /empty axis/],
      ['mu=1,,2', /empty value/],
      ['mu=0:1:0', /step of 0/],
      ['mu=1:0:0.1', /empty: the step goes away/],
      ['mu=0:1e9:1e-3', /more than/],
    ];
    for (const [spec, re] of bad) assert.throws(() => parseGrid(spec), (e: Error) => e instanceof UsageError && re.test(e.message), spec);
  });
});

describe('inputs: bad input named with its fix', () => {
  it('refuses duplicate names, empty axes, ragged tables, --header without a table, a first linked source', async () => {
    const d = tmp();
    const ragged = path.join(d, 'r.csv');
    fs.writeFileSync(ragged, 'a,b\n1,2\n3\n');
    await usageError({ sources: [{ kind: 'grid', name: 'mu', values: ['1'] }, { kind: 'grid', name: 'mu', values: ['2'] }] }, /"mu" is given twice/);
    await usageError({ sources: [{ kind: 'grid', name: 'mu', values: [] }] }, /empty axis/);
    await usageError({ sources: [{ kind: 'table', path: ragged }], colsep: ',', header: true }, /line 3: 1 column where the header has 2/);
    await usageError({ sources: [{ kind: 'grid', name: 'mu', values: ['1'] }], header: true }, /--header : names columns .* no source here has one/);
    await usageError({ sources: [{ kind: 'values', values: ['a'], link: true }] }, /first source/);
    await usageError({ sources: [{ kind: 'table', path: path.join(d, 'missing.csv') }] }, /Cannot read the input file .*missing\.csv \(ENOENT\)/);
    await usageError({ sources: [{ kind: 'values', values: ['a,b'] }], colsep: '(' }, /not a valid regular expression/);
    await usageError({ sources: [{ kind: 'values', values: ['mu sigma'] }], header: true }, /cannot be used as \{name\}/);
  });

  it('refuses {3} with two columns and {name} that nothing names', async () => {
    const i = await readInputs({ sources: [{ kind: 'grid', name: 'mu', values: ['1'] }, { kind: 'values', values: ['x'] }] }, openSource);
    assert.throws(() => validateTupleTemplate(['echo', '{3}'], i.layout), /uses \{3\} but the inputs have 2 columns/);
    assert.throws(() => validateTupleTemplate(['echo', '{sigma}'], i.layout), /no input is named "sigma" \(names: mu\).*--grid sigma=VALUES/);
    assert.throws(() => validateTupleTemplate(['echo', '{+/}'], i.layout), /Unknown replacement string \{\+\/\}/);
    validateTupleTemplate(['echo', '{1}', '{2/}', '{mu.}', '{}', '{#}', '{"json": 1}'], i.layout);
  });
});

describe('inputs: replacement strings, keys and names', () => {
  const layout = { names: ['mu', undefined, undefined], resultNames: ['mu', 'input2', 'file'], sourceOf: [0, 1, 2] };
  it('expands {n} {name} with modifiers, {} as every value; appends the values when there is none', () => {
    const v = ['0.5', 'x y', 'dir/sub/f.tar.gz'];
    assert.deepStrictEqual(expandTuple(['p', '{1}', '{mu}', '{3/}', '{3.}', '{3//}', '{3/.}', '--s={2}', '{#}/{%}'], layout, v, 7, 2), ['p', '0.5', '0.5', 'f.tar.gz', 'dir/sub/f.tar', 'dir/sub', 'f.tar', '--s=x y', '7/2']);
    assert.deepStrictEqual(expandTuple(['p', '{}', 'a{}b'], layout, v, 1, 1), ['p', ...v, 'a0.5 x y dir/sub/f.tar.gzb']);
    assert.deepStrictEqual(expandTuple(['p', '--flag'], layout, v, 1, 1), ['p', '--flag', ...v]);
    assert.deepStrictEqual(expandTuple(['p', '{2}'], layout, ['1', '{1}', 'z'], 1, 1), ['p', '{1}'], 'a value is never expanded again');
  });

  it('keys a task by its whole tuple and names its logs readably and safely', () => {
    assert.notStrictEqual(tupleKey(['a b', 'c']), tupleKey(['a', 'b c']));
    assert.strictEqual(tupleLabel(layout, ['0.5', 'q', 'f']), 'mu=0.5 q f');
    assert.strictEqual(tupleLogPart(layout, ['0.5', 'a/b $(rm)', '/data/run 1/x.fits']), 'mu=0.5,a_b_rm_,x.fits');
    assert.ok(tupleLogPart(layout, ['1', 'y'.repeat(500), 'f']).length <= 80);
    assert.strictEqual(tupleLogPart({ names: [undefined], resultNames: ['input1'], sourceOf: [0] }, ['..']), '_', 'never a hidden or parent name');
    assert.deepStrictEqual(namedValues(layout, ['1', '2', '3']), { mu: '1', input2: '2', file: '3' });
  });

  it('gives the command lines GNU Parallel gives, on hostile values', function () {
    this.timeout(60_000);
    const a = ['sp ace', "quo'te", '$(touch pwned)', 'semi;colon', ''];
    const b = ['dq"x.tar.gz', 'd/e f/g.h', '`id`'];
    const tmpl = ['{1}', '{2}', '{2.}', '{2/}', '{2//}', '{2/.}', '{#}'];
    // GNU Parallel hands the command to a shell; it quotes each value so each stays one word
    const r = spawnSync('parallel', ['-k', '-j1', '--will-cite', 'printf', '%s\\\\0', ...tmpl, ':::', ...a, ':::', ...b], { encoding: 'utf8', cwd: tmp() });
    assert.strictEqual(r.status, 0, r.stderr);
    const fields = r.stdout.split('\0').slice(0, -1);
    const i = { names: [undefined, undefined], resultNames: ['input1', 'input2'], sourceOf: [0, 1] };
    const ours: string[] = [];
    let seq = 0;
    for (const x of a) for (const y of b) ours.push(...expandTuple(tmpl, i, [x, y], ++seq, 1));
    assert.deepStrictEqual(ours, fields);
  });
});

describe('inputs: parameter tables and the VS Code side', () => {
  it('reads a CSV/TSV table with csv-parse (quotes, commas, newlines) and names a malformed line', async () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'p.csv'), 'mu,label\n0.5,"a, b"\n1,"two\nlines"\n');
    fs.writeFileSync(path.join(d, 'p.tsv'), 'mu\tsigma\n1\t2\n');
    fs.writeFileSync(path.join(d, 'bad.csv'), 'mu,label\n1,x\n2,"open\n');
    fs.writeFileSync(path.join(d, 'ragged.csv'), 'mu,label\n1,x\n2\n');
    assert.deepStrictEqual(readParamsTable(path.join(d, 'p.csv')), { names: ['mu', 'label'], rows: [['0.5', 'a, b'], ['1', 'two\nlines']] });
    assert.deepStrictEqual(readParamsTable(path.join(d, 'p.tsv')).rows, [['1', '2']]);
    assert.throws(() => readParamsTable(path.join(d, 'bad.csv')), (e: Error) => e instanceof UsageError && /malformed at line 3/.test(e.message));
    assert.throws(() => readParamsTable(path.join(d, 'ragged.csv')), (e: Error) => e instanceof UsageError && /malformed at line 3/.test(e.message));
    const spec = experimentInputs(undefined, { sigma: [1, 2], k: '1:3' }, [path.join(d, 'p.csv')])!;
    const r = await all(spec);
    assert.deepStrictEqual(r.names, ['sigma', 'k', 'mu', 'label']);
    assert.strictEqual(r.count, 2 * 3 * 2);
    assert.strictEqual(experimentInputs({ kind: 'list', files: ['a'] }, undefined), undefined, 'files alone: a plain run');
    assert.throws(() => experimentInputs(undefined, { mu: { a: 1 } }), /must be a list/);
  });

  it('finds the top-level functions a grid can run (their parameters, not self / *args / **kwargs)', () => {
    const src = 'import x\n\ndef loglike(mu: float, sigma: dict[str, int] = {"a": 1}, *args, flag=(1, 2), **kw) -> float:\n    return 1\n\ndef nothing():\n    pass\n\nclass C:\n    def m(self, a):\n        pass\n\nasync def later(a):\n    pass\n\ndef multi(\n    a,  # first\n    b=2,\n):\n    pass\n';
    assert.deepStrictEqual(gridFunctions(src), [
      // sigma: a dict cannot come from a grid value; it keeps its default
      { name: 'loglike', line: 2, params: ['mu', 'flag'] },
      { name: 'multi', line: 15, params: ['a', 'b'] },
    ]);
  });

  it('offers no grid on helpers: private functions, and functions that need an array or an object', () => {
    const src = [
      'import numpy as np',
      'from pathlib import Path',
      'def model(theta: np.ndarray, x):',
      '    return theta[0] * x',
      'def _helper(a):',
      '    pass',
      'def fit(points: list[float]):',
      '    pass',
      'def loglike(mu: float, sigma: "float" = 1.0, data: np.ndarray = None, n: Optional[int] = None, out: Path = Path("o")):',
      '    return 0',
      'def spectrum(file: Path, z: np.float64, flag: bool, out: str | None = None, w: np.ndarray | None = None):',
      '    pass',
    ].join('\n');
    assert.deepStrictEqual(gridFunctions(src), [
      { name: 'loglike', line: 8, params: ['mu', 'sigma', 'n', 'out'] },
      { name: 'spectrum', line: 10, params: ['file', 'z', 'flag', 'out'] },
    ]);
  });
});

describe('inputs: the VS Code run flow builds what the command line builds', () => {
  const cwd = '/work/project';
  const python = { kind: 'python' as const, python: 'python3', script: 'lik.py', args: [] as string[], warm: false };
  function cliInputs(argv: string[]) {
    const a = parseRunArgs(['--script', 'lik.py', ...argv]);
    return inputsFromArgs(a, cwd, { ...python, args: a.rest }).inputs;
  }

  it('files, parameters (as --grid) and a table (:::: --header : --colsep) give the same sources in the same order', () => {
    const files = { kind: 'globs' as const, patterns: ['data/*.txt'], cwd };
    const args = ['--mu', '{mu}', '--sigma', '{sigma}'];
    assert.deepStrictEqual(
      flowInputs(files, [{ name: 'mu', values: '0:1:0.25' }, { name: 'k', values: '1, 2,5' }], path.join(cwd, 'p.csv'), args),
      cliInputs(['--files', 'data/*.txt', '--grid', 'mu=0:1:0.25', '--grid', 'k=1, 2,5', '--header', ':', '--colsep', ',', '--', ...args, '::::', 'p.csv']),
    );
    assert.deepStrictEqual(flowInputs(undefined, [{ name: 'mu', values: '1,2' }], undefined, args), cliInputs(['--grid', 'mu=1,2', '--', ...args]));
    // a TSV table splits on tabs: --colsep '\t' as a shell user types it
    assert.deepStrictEqual(flowInputs(undefined, [], path.join(cwd, 'p.tsv')), cliInputs(['--header', ':', '--colsep', '\\t', '::::', 'p.tsv']));
    // files alone are a plain run over files, unless {1} places the file (then tuples, as the CLI)
    assert.strictEqual(flowInputs(files, [], undefined, ['--out', 'x']), undefined);
    assert.strictEqual(cliInputs(['--files', 'data/*.txt', '--', '--out', 'x']), undefined);
    assert.deepStrictEqual(flowInputs(files, [], undefined, ['--in', '{1}']), cliInputs(['--files', 'data/*.txt', '--', '--in', '{1}']));
    assert.throws(() => flowInputs(undefined, [], undefined), (e: Error) => e instanceof UsageError && /No inputs: give input files, a parameter/.test(e.message));
    assert.throws(() => flowInputs(undefined, [{ name: 'mu', values: '1:0:1' }], undefined), /step goes away from STOP/);
  });

  it('splits the arguments line as a shell would, expanding nothing; an open quote names the fix', () => {
    assert.deepStrictEqual(splitArguments(`--mu {mu} --title "a b" it\\'s '$HOME' $(rm -rf x) ;`), ['--mu', '{mu}', '--title', 'a b', "it's", '$HOME', '$(rm', '-rf', 'x)', ';']);
    assert.deepStrictEqual(splitArguments('   '), []);
    assert.throws(() => splitArguments('--title "a b'), (e: Error) => e instanceof UsageError && /close the quote/.test(e.message));
    assert.deepStrictEqual(namesUsed(['--mu', '{mu}', '{sigma/}x{mu.}', '{1}', '{}']), ['mu', 'sigma']);
  });

  it('runs exactly the tuples given in "only" (each once, the names kept), refusing ones of another width', async () => {
    const spec: InputsSpec = { sources: [{ kind: 'grid', name: 'mu', values: ['0', '0.5', '1'] }, { kind: 'grid', name: 'sigma', values: ['1', '2'] }] };
    const r = await all({ ...spec, only: [['1', '2'], ['0.5', '1'], ['1', '2']] });
    assert.deepStrictEqual(r.tuples, [['1', '2'], ['0.5', '1']]);
    assert.deepStrictEqual(r.names, ['mu', 'sigma']);
    assert.strictEqual(r.count, 2);
    await assert.rejects(readInputs({ ...spec, only: [['1']] }, openSource), (e: Error) => e instanceof UsageError && /has 1 values where the inputs have 2 columns \(mu, sigma\)/.test(e.message));
  });
});
