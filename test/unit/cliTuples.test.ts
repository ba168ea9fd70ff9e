/**
 * Runs over input tuples through the real CLI: the task command lines and outputs against the real
 * GNU Parallel on the same inputs (hostile values), the tuple as the key of resume, readable log
 * names, --dry-run per tuple, --script args with replacement strings (cold and warm), and bad input
 * refused with exit 2 before anything is written.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CLI, journalLines, PYTHON, tmpDir, writeFiles } from './engineHelpers';

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 50_000, env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** GNU Parallel, one job at a time, in order */
function gnu(args: string[], cwd: string) {
  const r = spawnSync('parallel', ['-k', '-j1', '--will-cite', ...args], { cwd, encoding: 'utf8', timeout: 50_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const HOSTILE_A = ['sp ace', "quo'te", '$(touch pwned)', 'semi;colon', ''];
const HOSTILE_B = ['dq"x.tar.gz', 'd/e f/g.h', '`id`'];

describe('cli: runs over input tuples', function () {
  this.timeout(240_000);

  it('gives the command lines and outputs GNU Parallel gives, on hostile values', () => {
    const dir = tmpDir('pr-tuples-');
    writeFiles(dir, {
      'argv.py': 'import sys, json\nprint(json.dumps(sys.argv[1:]))\n',
      't.csv': 'x,y\n1,sp ace\n2,$(touch pwned2)\n3,\n',
      'b.txt': HOSTILE_B.join('\n') + '\n',
    });
    // [options, template, input sources]
    const cases: Array<[string[], string[], string[]]> = [
      [[], ['{1}', '{2}', '{2.}', '{2/}', '{2//}', '{2/.}', '{#}'], [':::', ...HOSTILE_A, ':::', ...HOSTILE_B]],
      [[], [], [':::', ...HOSTILE_A, ':::+', ...HOSTILE_B]],
      [[], ['{2}', '{1}'], [':::', ...HOSTILE_A, '::::', 'b.txt']],
      [['--colsep', ','], ['{2}', '{1}'], ['::::', 't.csv', ':::', 'p', 'q']],
      [['--header', ':', '--colsep', ','], ['{y}', '{x}'], ['::::', 't.csv']],
    ];
    cases.forEach(([opts, tmpl, inputs], i) => {
      const theirs = gnu([...opts, PYTHON, 'argv.py', ...tmpl, ...inputs], dir);
      assert.strictEqual(theirs.code, 0, theirs.stderr);
      const ours = cli(['run', '-k', '-j', '2', '--out', `o${i}`, ...opts, '--', PYTHON, 'argv.py', ...tmpl, ...inputs], dir);
      assert.strictEqual(ours.code, 0, ours.stderr);
      assert.strictEqual(ours.stdout, theirs.stdout, [...opts, ...tmpl, ...inputs].join(' '));
      assert.ok(theirs.stdout.split('\n').length > 3);
    });
    assert.ok(!fs.existsSync(path.join(dir, 'pwned')) && !fs.existsSync(path.join(dir, 'pwned2')), 'no value went through a shell');
  });

  it('keys resume by the whole tuple; logs get readable bounded names', () => {
    const dir = tmpDir('pr-tuples-');
    writeFiles(dir, { 'lik.py': 'import sys, os\nmu, s = sys.argv[2], sys.argv[4]\nif mu == "0.5" and not os.path.exists("fixed"): sys.exit(3)\nprint(mu, s)\n' });
    const args = ['run', '-k', '--out', 'out', '--script', 'lik.py', '--grid', 'mu=0:1:0.5', '--grid', 'sigma=1,2', '--', '--mu', '{mu}', '--sigma', '{sigma}'];
    const r = cli(args, dir);
    assert.strictEqual(r.code, 1, r.stderr);
    assert.strictEqual(r.stdout, '0 1\n0 2\n1 1\n1 2\n');
    const logs = fs.readdirSync(path.join(dir, 'out', 'logs')).filter((f) => f.endsWith('.out')).sort();
    assert.deepStrictEqual(logs, ['000001-mu=0,sigma=1.out', '000002-mu=0,sigma=2.out', '000003-mu=0.5,sigma=1.out', '000004-mu=0.5,sigma=2.out', '000005-mu=1,sigma=1.out', '000006-mu=1,sigma=2.out']);
    fs.writeFileSync(path.join(dir, 'fixed'), '');
    const again = cli([...args.slice(0, 1), '--resume', ...args.slice(1)], dir);
    assert.strictEqual(again.code, 0, again.stderr);
    assert.strictEqual(again.stdout, '0.5 1\n0.5 2\n', 'only the failed tuples ran again');
    const ok = journalLines(path.join(dir, 'out')).filter((l) => l.status === 'succeeded');
    assert.deepStrictEqual(ok.map((l) => JSON.stringify(l.inputs)).sort(), ['["0","1"]', '["0","2"]', '["0.5","1"]', '["0.5","2"]', '["1","1"]', '["1","2"]']);
    assert.ok(ok.every((l) => /^mu=\S+ sigma=\S+$/.test(l.file)), 'the record names its tuple');
  });

  it('--dry-run prints each tuple\'s command; --script args with replacement strings run alike cold and warm', () => {
    const dir = tmpDir('pr-tuples-');
    writeFiles(dir, { 'p.py': 'import sys\nprint(" ".join(sys.argv[1:]))\n', 'in/a.dat': '', 'in/b.dat': '' });
    const d = cli(['run', '--dry-run', '--files', 'in/*.dat', '--grid', 'k=1:2', '--script', 'p.py', '--', '--in', '{1/.}', '-k', '{k}'], dir);
    assert.strictEqual(d.code, 0, d.stderr);
    const lines = d.stdout.trim().split('\n').sort();
    assert.strictEqual(lines.length, 4);
    assert.match(lines[0], /p\.py --in a -k 1$/);
    assert.ok(!fs.existsSync(path.join(dir, '.parallel-run')), 'a dry run writes nothing');
    const j = cli(['run', '--dry-run', '--json', '--grid', 'k=1,2', '--', 'echo', '{k}'], dir);
    assert.deepStrictEqual(j.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((e) => [e.file, e.inputs, e.argv.slice(1)]), [['k=1', ['1'], ['1']], ['k=2', ['2'], ['2']]]);
    const cold = cli(['run', '-k', '--out', 'c', '--files', 'in/*.dat', '--grid', 'k=1:2', '--script', 'p.py', '--', '--in', '{1/.}', '-k', '{k}'], dir);
    const warm = cli(['run', '-k', '--out', 'w', '--warm', '--files', 'in/*.dat', '--grid', 'k=1:2', '--script', 'p.py', '--', '--in', '{1/.}', '-k', '{k}'], dir);
    assert.strictEqual(cold.code, 0, cold.stderr);
    assert.strictEqual(warm.code, 0, warm.stderr);
    assert.strictEqual(cold.stdout, warm.stdout);
    assert.deepStrictEqual(cold.stdout.trim().split('\n').sort(), ['--in a -k 1', '--in a -k 2', '--in b -k 1', '--in b -k 2']);
    // no replacement string in the args: the values take the file's place, before the args
    const plain = cli(['run', '-k', '--out', 'p', '--script', 'p.py', '--grid', 'k=1,2', '--', '--flag'], dir);
    assert.strictEqual(plain.stdout, '1 --flag\n2 --flag\n');
  });

  it('refuses bad input with exit 2, naming the problem and the fix, and writes nothing', () => {
    const dir = tmpDir('pr-tuples-');
    writeFiles(dir, { 'bad.csv': 'a,b\n1,2\n3\n', 'good.csv': 'a,b\n1,2\n' });
    const cases: Array<[string[], RegExp]> = [
      [['--', 'echo', '{3}', ':::', 'a', ':::', 'b'], /uses \{3\} but the inputs have 2 columns/],
      [['--header', ':', '--colsep', ',', '--', 'echo', '{c}', '::::', 'good.csv'], /uses \{c\} but no input is named "c" \(names: a, b\)/],
      [['--header', ':', '--colsep', ',', '--', 'echo', '::::', 'bad.csv'], /bad\.csv \(input source 1\), line 3: 1 column where the header has 2/],
      [['--grid', 'mu=', '--', 'echo'], /empty axis/],
      [['--grid', 'mu=1', '--grid', 'mu=2', '--', 'echo'], /"mu" is given twice/],
      [['--header', ':', '--grid', 'mu=1', '--', 'echo'], /no source here has one/],
      [['--grid', 'a=1:1000', '--grid', 'b=1:1001', '--', 'true'], /make 1,001,000 tasks \(more than 1,000,000\).*--yes/],
      [['--header', 'x', '--', 'echo', ':::', 'a'], /--header takes ":"/],
    ];
    for (const [args, re] of cases) {
      const r = cli(['run', '--out', 'o', ...args], dir);
      assert.strictEqual(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.ok(!fs.existsSync(path.join(dir, 'o')), 'nothing written');
    }
  });
});
