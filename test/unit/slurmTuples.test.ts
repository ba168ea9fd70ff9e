/**
 * Runs over input tuples (--grid, :::, ::::, --header/--colsep, a `-- ARGS` template) on the REAL test
 * Slurm cluster (scripts/slurm-start.sh): the same tuples as a local run, packed by tuple into one
 * array, each array task running its tuples with the same argv; results.csv / results.ndjson collected
 * from the shards (one row per tuple, also after a resume and a re-collection); a failed tuple
 * re-submitted; --dry-run exports; --call and a notebook with a parameters cell on the cluster.
 */
import * as assert from 'assert';
import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { attachSlurmRun, readCsv, readJournal, resubmitFailed, SLURM_FILES, SlurmPlanFile, TaskRecord } from '../../extension/core';
import { CLI, ensureCluster, makeWorkspace, realPython, stillQueued, testSlurmSettings } from './slurmHelpers';

const NOTEBOOKS = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'notebooks');

function cli(args: string[], cwd: string): cp.SpawnSyncReturns<string> {
  return cp.spawnSync(process.execPath, [CLI, 'run', ...args], { cwd, encoding: 'utf8', timeout: 200_000 });
}

/** results.csv as objects (csv-parse), in file order. */
function resultsOf(runDir: string): Array<Record<string, string>> {
  const { columns, rows } = readCsv(fs.readFileSync(path.join(runDir, 'results.csv'), 'utf8'));
  return rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]])));
}

async function journalOf(runDir: string): Promise<TaskRecord[]> {
  const out: TaskRecord[] = [];
  for await (const l of readJournal(path.join(runDir, 'journal.ndjson'))) out.push(l);
  return out;
}

/** A likelihood over (mu, sigma) printing its result as JSON; mu=0.5, sigma=2 fails until fixed.flag exists. */
const LIK = `import json, os, sys
args = sys.argv[1:]
mu, sigma = float(args[args.index("--mu") + 1]), float(args[args.index("--sigma") + 1])
if (mu, sigma) == (0.5, 2.0) and not os.path.exists("fixed.flag"):
    sys.exit("refusing mu=0.5 sigma=2")
print("working on", mu, sigma)
print(json.dumps({"ll": round(-((mu - 0.3) ** 2) / sigma, 6), "argv": args, "host": os.environ.get("SLURM_JOB_ID") is not None}))
`;

const GRID = ['--grid', 'mu=0:1:0.25', '--grid', 'sigma=1,2'];
const MUS = ['0', '0.25', '0.5', '0.75', '1'];
const SIGMAS = ['1', '2'];
const ll = (mu: string, sigma: string) => Math.round((-((Number(mu) - 0.3) ** 2) / Number(sigma)) * 1e6) / 1e6;

describe('slurm: runs over input tuples on a real cluster', function () {
  this.timeout(400_000);
  let python: string;

  before(function () {
    ensureCluster();
    python = realPython();
  });

  it('a --grid with a -- ARGS template: one array packed by tuple, results.csv collected (one row per tuple); a failed tuple re-submitted, resumed and re-collected', async () => {
    const ws = makeWorkspace('grid');
    fs.writeFileSync(path.join(ws, 'lik.py'), LIK);
    const args = ['--backend', 'slurm', '--target-task-seconds', '3', '--python', python, '--script', 'lik.py', ...GRID, '--', '--mu', '{mu}', '--sigma', '{sigma}'];
    const r = cli(['--out', 'runs/g', ...args], ws);
    assert.strictEqual(r.status, 1, r.stderr);
    assert.match(r.stderr, /10 input tuples in 4 array tasks/);
    assert.match(r.stderr, /failed: mu=0\.5 sigma=2 \(exit 1\)/);
    const runDir = path.join(ws, 'runs', 'g');
    const plan = JSON.parse(fs.readFileSync(path.join(runDir, 'slurm', 'plan.json'), 'utf8')) as SlurmPlanFile;
    assert.deepStrictEqual(plan.tuples, { names: ['mu', 'sigma'], resultNames: ['mu', 'sigma'] });
    assert.deepStrictEqual(plan.tasks.map((t) => t.count), [3, 2, 3, 2], 'packed by tuple: 10 × 1 s guess / 3 s target');
    const manifest = fs.readFileSync(path.join(runDir, 'slurm', SLURM_FILES.tuples), 'utf8').trim().split('\n');
    assert.strictEqual(manifest.length, 11, 'the header line + 10 tuples');
    assert.deepStrictEqual(JSON.parse(manifest[1]), ['0', '1']);

    // every tuple has its row, in input order, with its inputs, status and the values it printed
    const rows = resultsOf(runDir);
    const want = MUS.flatMap((mu) => SIGMAS.map((sigma) => [mu, sigma]));
    assert.deepStrictEqual(rows.map((x) => [x.mu, x.sigma]), want);
    for (const x of rows) {
      if (x.mu === '0.5' && x.sigma === '2') {
        assert.deepStrictEqual([x.status, x.ll], ['failed', '']);
        continue;
      }
      assert.strictEqual(x.status, 'succeeded', JSON.stringify(x));
      assert.strictEqual(Number(x.ll), ll(x.mu, x.sigma), JSON.stringify(x));
      // the argv the array task gave the script: the local run's
      assert.deepStrictEqual(JSON.parse(x.argv), ['--mu', x.mu, '--sigma', x.sigma]);
      assert.strictEqual(x.host, 'true', 'ran inside a Slurm job');
    }
    assert.strictEqual(fs.readFileSync(path.join(runDir, 'results.ndjson'), 'utf8').trim().split('\n').length, 10);
    const journal = await journalOf(runDir);
    assert.deepStrictEqual(journal.map((l) => l.inputs), want, 'the journal keys each line by its whole tuple');
    const failed = journal.find((l) => l.status === 'failed')!;
    assert.match(fs.readFileSync(path.join(runDir, failed.stderrLog), 'utf8'), /refusing mu=0\.5 sigma=2/);
    assert.match(failed.stderrLog, /000001-mu=0\.5,sigma=2\.err$/, 'readable log names');

    // Re-run Failed on Slurm: a new run of the one failed tuple
    fs.writeFileSync(path.join(ws, 'fixed.flag'), '');
    const again = await resubmitFailed(runDir, { slurm: testSlurmSettings(), cliPath: CLI }, { pollMinMs: 200 });
    const r2 = await again.done;
    assert.strictEqual(r2.status, 'succeeded', JSON.stringify(r2.failures));
    assert.match(r2.label ?? '', /failed tuples/);
    assert.deepStrictEqual(resultsOf(again.outDir).map((x) => [x.mu, x.sigma, x.status, Number(x.ll)]), [['0.5', '2', 'succeeded', ll('0.5', '2')]]);
    assert.strictEqual(stillQueued(again.jobIds()), '');

    // --resume in the run's own directory: only the failed tuple is submitted; the table is complete,
    // one row per tuple, in input order, no duplicates
    const resumed = cli(['--out', 'runs/g', '--resume', ...args], ws);
    assert.strictEqual(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /1 input tuples in 1 array tasks/);
    const check = async () => {
      const all = resultsOf(runDir);
      assert.deepStrictEqual(all.map((x) => [x.mu, x.sigma]), want);
      assert.ok(all.every((x) => x.status === 'succeeded' && Number(x.ll) === ll(x.mu, x.sigma)), JSON.stringify(all));
      const nd = fs.readFileSync(path.join(runDir, 'results.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.deepStrictEqual(nd.map((x) => [x.mu, x.sigma]), want);
      const j = await journalOf(runDir);
      assert.strictEqual(j.length, 10);
      assert.deepStrictEqual(j.map((l) => l.index).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'each tuple keeps its position');
    };
    await check();
    // collecting the same array again (as after a restart) changes nothing
    const re = await attachSlurmRun(runDir, { pollMinMs: 200 });
    await re.done;
    await check();
  });

  it('::: and :::: with --header / --colsep and hostile values: the same argv and results as the local run; --dry-run exports the tuples', () => {
    const ws = makeWorkspace('table');
    fs.writeFileSync(path.join(ws, 'echo_args.py'), 'import json, sys\nprint(json.dumps({"args": sys.argv[1:]}))\n');
    fs.writeFileSync(path.join(ws, 'table.tsv'), 'a\tb\n1 2\t$(echo hi)\n"q"\t;x\n\tempty-a\n');
    const inputs = ['--header', ':', '--colsep', '\t', '--', python, 'echo_args.py', '--a={a}', '{b}', '{3}', '{k/}', ':::', 'k', 'x y', "it's/z.txt", '::::', 'table.tsv'];
    // sources in order: ::: k ... (column 1, named k by --header), then the table's a and b
    const slurm = cli(['--backend', 'slurm', '--target-task-seconds', '2', '--out', 'runs/s', ...inputs], ws);
    assert.strictEqual(slurm.status, 0, slurm.stderr);
    const local = cli(['--quiet', '--out', 'runs/l', ...inputs], ws);
    assert.strictEqual(local.status, 0, local.stderr);
    const strip = (rows: Array<Record<string, string>>) => rows.map(({ seconds: _s, max_rss_mb: _m, ...rest }) => rest);
    const s = strip(resultsOf(path.join(ws, 'runs', 's')));
    assert.strictEqual(s.length, 6);
    // (a local run writes rows as tasks finish, with -j 2 in either order; the collected Slurm table is in input order)
    const sorted = (rows: Array<Record<string, string>>) => rows.map((r) => JSON.stringify(r)).sort();
    assert.deepStrictEqual(sorted(s), sorted(strip(resultsOf(path.join(ws, 'runs', 'l')))));
    const argsOf = (k: string, a: string) => JSON.parse(s.find((r) => r.k === k && r.a === a)!.args);
    assert.deepStrictEqual(argsOf('x y', '1 2'), ['--a=1 2', '$(echo hi)', '$(echo hi)', 'x y']);
    assert.deepStrictEqual(argsOf("it's/z.txt", ''), ['--a=', 'empty-a', 'empty-a', 'z.txt']);
    assert.deepStrictEqual(Object.keys(s[0]), ['k', 'a', 'b', 'status', 'args']);

    // --dry-run: the array's files for another cluster, with the tuples; nothing submitted
    const dry = cli(['--backend', 'slurm', '--dry-run', '--out', 'runs/d', '--max-array-size', '2', ...inputs], ws);
    assert.strictEqual(dry.status, 0, dry.stderr);
    assert.match(dry.stderr, /6 input tuples in \d+ array tasks; nothing submitted/);
    const sdir = path.join(ws, 'runs', 'd', 'slurm');
    const lines = fs.readFileSync(path.join(sdir, SLURM_FILES.tuples), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepStrictEqual(lines[0], { names: ['k', 'a', 'b'], resultNames: ['k', 'a', 'b'] });
    assert.deepStrictEqual(lines.slice(1)[1], ['x y', '"q"', ';x']);
    const script = fs.readFileSync(path.join(sdir, 'submit.sbatch'), 'utf8');
    assert.match(script, /--tuples-from -/);
    assert.strictEqual(cp.spawnSync('bash', ['-n', path.join(sdir, 'submit.sbatch')]).status, 0, 'valid bash');
    assert.match(fs.readFileSync(path.join(sdir, 'README.txt'), 'utf8'), /tuples\.ndjson = line 1 names the columns/);
    assert.ok(!fs.existsSync(path.join(sdir, SLURM_FILES.submission)), 'nothing submitted');
    // the exported array task, run by hand for its first tuples, runs them as the array would
    const shard = cp.spawnSync(process.execPath, [CLI, 'run', '--tuples-from', '-', '--quiet', '--out', path.join(ws, 'runs', 'hand'), '--', python, 'echo_args.py', '--a={a}', '{b}', '{3}', '{k/}'],
      { cwd: ws, encoding: 'utf8', input: fs.readFileSync(path.join(sdir, SLURM_FILES.tuples), 'utf8').split('\n').slice(0, 3).join('\n') + '\n' });
    assert.strictEqual(shard.status, 0, shard.stderr);
    // its two tuples: k = "x y" with the table's first two rows (rows in the order they finished)
    assert.deepStrictEqual(sorted(strip(resultsOf(path.join(ws, 'runs', 'hand')))), sorted(s.filter((r) => r.k === 'x y' && (r.a === '1 2' || r.a === '"q"'))));
  });

  it('--call on the cluster: each array task calls the function in-process per tuple', () => {
    const ws = makeWorkspace('call');
    const r = cli(['--backend', 'slurm', '--out', 'runs/c', '--python', python, '--script', 'lik.py', '--call', 'loglike', '--grid', 'mu=0,0.5,1', '--grid', 'sigma=1,2'], ws);
    assert.strictEqual(r.status, 0, r.stderr);
    const rows = resultsOf(path.join(ws, 'runs', 'c'));
    assert.deepStrictEqual(rows.map((x) => [x.mu, x.sigma, Number(x.ll)]), ['0', '0.5', '1'].flatMap((mu) => ['1', '2'].map((sg) => [mu, sg, Math.round((-((Number(mu) - 0.5) ** 2) / Number(sg)) * 1e6) / 1e6 || 0])));
    const report = JSON.parse(fs.readFileSync(path.join(ws, 'runs', 'c', 'report.json'), 'utf8'));
    assert.ok(report.tasks.every((t: TaskRecord) => t.mode === 'call'), 'in-process calls, not a process per tuple');
    assert.match(fs.readFileSync(path.join(ws, 'runs', 'c', 'slurm', 'submit.sbatch'), 'utf8'), /--call loglike/);
  });

  it('a notebook with a parameters cell over a grid of files × values on the cluster', () => {
    const ws = makeWorkspace('nb');
    fs.mkdirSync(path.join(ws, 'nums'));
    for (const i of [1, 2, 3]) fs.writeFileSync(path.join(ws, 'nums', `n${i}.txt`), `${i} ${i * 10}\n`);
    const cells = [
      { type: 'markdown', source: '# Sum a file, scaled' },
      { type: 'code', source: '%matplotlib inline\nimport json, os' },
      { type: 'code', source: 'path = "nums/example.txt"\nscale = 1', tags: ['parameters'] },
      { type: 'code', source: 'total = sum(float(x) for x in open(path).read().split()) * scale\nprint(json.dumps({"total": total, "name": os.path.basename(path)}))' },
    ];
    cp.execFileSync('/usr/bin/python3', [path.join(NOTEBOOKS, 'make_notebook.py'), path.join(ws, 'sum.ipynb')], { input: JSON.stringify(cells) });
    const r = cli(['--backend', 'slurm', '--out', 'runs/nb', '--python', python, '--notebook', 'sum.ipynb', '--grid', 'scale=1,0.5', ':::', 'nums/n1.txt', 'nums/n2.txt', 'nums/n3.txt'], ws);
    assert.strictEqual(r.status, 0, r.stderr);
    const rows = resultsOf(path.join(ws, 'runs', 'nb'));
    // --grid comes before ::: : the scale varies slowest
    assert.deepStrictEqual(rows.map((x) => [x.scale, x.input2, Number(x.total), x.name]), ['1', '0.5'].flatMap((sc) => [1, 2, 3].map((i) => [sc, `nums/n${i}.txt`, i * 11 * Number(sc), `n${i}.txt`])));
    assert.match(fs.readFileSync(path.join(ws, 'runs', 'nb', 'slurm', 'submit.sbatch'), 'utf8'), /\.parallel-run\/notebooks\/sum\.ipynb-[0-9a-f]{8}\.py/);
  });
});
