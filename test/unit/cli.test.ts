/**
 * The `parallel-run` CLI (dist/cli.js) as a user runs it: exit codes 0/1/2/130, grouped pass-through,
 * NDJSON with --json, and crash safety: SIGKILL the CLI mid-run → within 2 s no process of the run is
 * left, then --resume completes with exactly one success per file in the journal and every output.
 */
import * as assert from 'assert';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { byteSize, jobsSpec } from '../../extension/cli/args';
import { tagLines } from '../../extension/cli/output';
import { alive, CLI, FIXTURES, journalLines, processesWithEnv, PYTHON, sleep, tmpDir, waitFor, writeFiles } from './engineHelpers';

function cli(args: string[], cwd: string, input?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', input, timeout: 50_000, env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function inputs(dir: string, n: number): string[] {
  const files: Record<string, string> = {};
  for (let i = 1; i <= n; i++) files[`in/f${String(i).padStart(3, '0')}.txt`] = `word `.repeat(i);
  return writeFiles(dir, files);
}

describe('cli: parallel-run run', function () {
  this.timeout(60_000);

  it('exit 0, output passed through grouped per task, report written', () => {
    const dir = tmpDir('pr-cli-');
    inputs(dir, 4);
    const r = cli(['run', '-j', '2', '--files', 'in/*.txt', '--out', 'out', '--', 'sh', '-c', 'echo "begin $1"; sleep 0.1; echo "end $1"', 'sh', '{}'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.strictEqual(lines.length, 8);
    for (let i = 0; i < 8; i += 2) assert.strictEqual(lines[i + 1], lines[i].replace('begin', 'end'), 'each task output is contiguous');
    assert.match(r.stderr, /succeeded: 4 succeeded/);
    assert.ok(fs.existsSync(path.join(dir, 'out', 'report.json')));
  });

  it('exit 1 when a task fails; --quiet keeps task output out; the summary names the log', () => {
    const dir = tmpDir('pr-cli-');
    writeFiles(dir, { 'in/a.txt': 'a', 'in/empty.txt': '' });
    const r = cli(['run', '--quiet', '--files', 'in', '--out', 'out', '--script', path.join(FIXTURES, 'count_words.py')], dir);
    assert.strictEqual(r.code, 1, r.stderr);
    assert.strictEqual(r.stdout, '');
    assert.match(r.stderr, /1 file: exit code 3: empty file: .*empty\.txt, e\.g\. empty\.txt\n\s+log: .*logs\/.*empty\.txt\.err/);
  });

  it('--json prints NDJSON events only', () => {
    const dir = tmpDir('pr-cli-');
    inputs(dir, 3);
    const r = cli(['run', '--json', '--files-from', '-', '--out', 'out', '--', 'echo'], dir, 'in/f001.txt\nin/f002.txt\nin/f003.txt\n');
    assert.strictEqual(r.code, 0, r.stderr);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.strictEqual(events[0].type, 'runStarted');
    assert.strictEqual(events[events.length - 1].type, 'runFinished');
    assert.strictEqual(events.filter((e) => e.type === 'taskFinished').length, 3);
    // the closing line is bounded: the records came as taskFinished lines and are in report.json
    const fin = events[events.length - 1].report;
    assert.deepStrictEqual([fin.tasks.length, fin.tasksInReportFile, fin.counts.succeeded], [0, 3, 3]);
    assert.strictEqual(JSON.parse(fs.readFileSync(path.join(dir, 'out', 'report.json'), 'utf8')).tasks.length, 3);
    assert.deepStrictEqual(events.filter((e) => e.type === 'taskOutput').map((e) => e.text).sort(), ['in/f001.txt\n', 'in/f002.txt\n', 'in/f003.txt\n']);
  });

  it('reads NUL-separated names from stdin with -0', () => {
    const dir = tmpDir('pr-cli-');
    writeFiles(dir, { 'a\nb.txt': 'x', 'c d.txt': 'y' });
    const r = cli(['run', '-0', '--files-from', '-', '--out', 'out', '--', 'cat'], dir, 'a\nb.txt\0c d.txt\0');
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(r.stdout.split('').sort().join(''), 'xy');
  });

  it('--dry-run prints each file\'s command, shell-quoted, and starts and writes nothing; --json as NDJSON', () => {
    const dir = tmpDir('pr-cli-');
    writeFiles(dir, { "in/it's a.txt": 'x', 'in/b;$(touch PWNED).txt': 'y', 'in/c.txt': 'z' });
    const r = cli(['run', '--dry-run', '-j', '2', '--files', 'in/*.txt', '--', 'sh', '-c', 'touch STARTED; echo "$1"', 'sh', '{/.}', '{#}', '{%}'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.strictEqual(lines.length, 3);
    assert.match(r.stderr, /dry run: 3 commands on 2 workers x 1 threads; each task gets .*OMP_NUM_THREADS=1.*Nothing was started/);
    // each line is a shell command that gives back exactly the argv the run would spawn
    const argvs = lines.map((l) => JSON.parse(spawnSync('bash', ['-c', `node -e 'console.log(JSON.stringify(process.argv.slice(1)))' -- ${l}`], { encoding: 'utf8' }).stdout));
    for (const a of argvs) assert.deepStrictEqual(a.slice(0, 4), ['sh', '-c', 'touch STARTED; echo "$1"', 'sh']);
    assert.deepStrictEqual(argvs.map((a) => a[4]).sort(), ['b;$(touch PWNED)', 'c', "it's a"]);
    // {#} counts the files in input order; {%} = the first round's slots, 1..2 in turn
    assert.deepStrictEqual(argvs.map((a) => a.slice(5)), [['1', '1'], ['2', '2'], ['3', '1']]);
    for (const f of ['STARTED', 'PWNED', '.parallel-run']) assert.ok(!fs.existsSync(path.join(dir, f)), `${f} must not exist`);

    const j = cli(['run', '--dry-run', '--json', '--files', 'in/c.txt', '--script', 'x.py', '--', '--fast'], dir);
    writeFiles(dir, { 'x.py': 'print(1)\n' });
    const j2 = cli(['run', '--dry-run', '--json', '--files', 'in/c.txt', '--script', 'x.py', '--', '--fast'], dir);
    assert.strictEqual(j.code, 2, 'the same checks as a run: the script must exist');
    assert.strictEqual(j2.code, 0, j2.stderr);
    const ev = JSON.parse(j2.stdout.trim());
    assert.deepStrictEqual([ev.type, ev.index, ev.file, ev.argv.slice(1)], ['dryRun', 1, 'in/c.txt', [path.join(dir, 'x.py'), 'in/c.txt', '--fast']]);
    assert.strictEqual(fs.realpathSync(ev.argv[0]), fs.realpathSync(PYTHON), 'the resolved interpreter');
  });

  it('-j as GNU Parallel reads it: N, +N, -N, N% of the cores (at least 1)', () => {
    assert.deepStrictEqual(['3', '+1', '-1', '-9', '50%', '150%', '10%', ' 2 '].map((v) => jobsSpec(v, 8)), [3, 9, 7, 1, 4, 12, 1, 2]);
    for (const v of ['0', '-', '+', 'x', '1.5', '%', '-0%', '']) assert.throws(() => jobsSpec(v, 8), /-j needs a whole number/, v);
    const dir = tmpDir('pr-cli-');
    inputs(dir, 1);
    const r = cli(['run', '--json', '-j', '-1', '--files', 'in/*.txt', '--out', 'o', '--', 'true'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(JSON.parse(r.stdout.split('\n')[0]).workers, Math.max(1, os.availableParallelism() - 1));
  });

  it('--memfree sizes: K/M/G/T in powers of 1024, either case', () => {
    assert.deepStrictEqual(['4G', '512m', '1.5G', '100', '2KiB', '1tb'].map((v) => byteSize('--memfree', v)), [4 * 2 ** 30, 512 * 2 ** 20, 1.5 * 2 ** 30, 100, 2048, 2 ** 40]);
    for (const v of ['', 'G', '-1G', '4X', '4 G B x']) assert.throws(() => byteSize('--memfree', v), /--memfree needs a size such as 4G/, v);
  });

  it('GNU Parallel input syntax: "-- cmd {} ::: FILES" and ":::: LIST", also after --script', () => {
    const dir = tmpDir('pr-cli-');
    const made = inputs(dir, 3).map((f) => path.relative(dir, f)).sort();
    const r = cli(['run', '-k', '-j', '2', '--out', 'o1', '--', 'echo', 'got', '{}', '{#}', ':::', ...made], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(r.stdout.trim().split('\n'), made.map((f, i) => `got ${f} ${i + 1}`));

    fs.writeFileSync(path.join(dir, 'list.txt'), made.join('\n') + '\n');
    const l = cli(['run', '-k', '--out', 'o2', '--', 'echo', '{/}', '::::', 'list.txt'], dir);
    assert.strictEqual(l.code, 0, l.stderr);
    assert.deepStrictEqual(l.stdout.trim().split('\n'), made.map((f) => path.basename(f)));

    // a file named like an option after ::: is a file, not an option (of the run or of Slurm)
    writeFiles(dir, { '--time': 'odd name', 'x.py': 'import sys\nprint("py", sys.argv[1:])\n' });
    const s = cli(['run', '-k', '--out', 'o3', '--script', 'x.py', ':::', made[0], '--time'], dir);
    assert.strictEqual(s.code, 0, s.stderr);
    assert.deepStrictEqual(s.stdout.trim().split('\n'), [`py ['${made[0]}']`, "py ['--time']"]);
    const s2 = cli(['run', '-k', '--out', 'o4', '--script', 'x.py', '--', '--flag', ':::', made[0]], dir);
    assert.strictEqual(s2.code, 0, s2.stderr);
    assert.deepStrictEqual(s2.stdout.trim().split('\n'), [`py ['${made[0]}', '--flag']`]);

    for (const [args, msg] of [
      [['--files', 'in/*.txt', '--files-from', 'list.txt', '--', 'echo'], /one way, not with --files and --files-from/],
      [['--', 'echo', ':::'], /Nothing after ":::" \(an empty input source\)/],
      [['--', 'echo', ':::', 'a', ':::+'], /Nothing after ":::\+"/],
      [['--', 'echo', '::::', 'list.txt', 'nope.txt'], /Cannot read the input file .*nope\.txt \(ENOENT\)/],
    ] as Array<[string[], RegExp]>) {
      const bad = cli(['run', ...args], dir);
      assert.strictEqual(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, msg);
    }
  });

  it('--tag starts every line of task output (stdout and stderr) with the file and a TAB', () => {
    const dir = tmpDir('pr-cli-');
    const r = cli(['run', '-k', '--tag', '--out', 'o', '--', 'sh', '-c', 'printf "one\\ntwo\\n"; printf "half"; echo " warn" >&2', 'sh', ':::', 'a b', 'c'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(r.stdout, 'a b\tone\na b\ttwo\na b\thalfc\tone\nc\ttwo\nc\thalf');
    assert.deepStrictEqual(r.stderr.split('\n').filter((l) => /warn$/.test(l)), ['a b\t warn', 'c\t warn']);
  });

  it('--joblog writes GNU Parallel\'s job log as files finish; --resume appends; a refused run leaves it alone', () => {
    const dir = tmpDir('pr-cli-');
    inputs(dir, 3);
    writeFiles(dir, { 'pick.sh': 'case "$1" in *f002*) [ -e fixed ] || exit 4;; *f003*) [ -e fixed ] || kill -TERM $$;; esac\n' });
    const t0 = Date.now() / 1000;
    const r = cli(['run', '--quiet', '--joblog', 'jobs.log', '--files', 'in/*.txt', '--out', 'out', '--', 'sh', 'pick.sh', '{}'], dir);
    assert.strictEqual(r.code, 1, r.stderr);
    const lines = fs.readFileSync(path.join(dir, 'jobs.log'), 'utf8').trim().split('\n');
    assert.strictEqual(lines[0], 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand');
    const rows = lines.slice(1).map((l) => l.split('\t')).sort((x, y) => Number(x[0]) - Number(y[0]));
    assert.deepStrictEqual(rows.map((c) => [c[0], c[1], c[4], c[5], c[6], c[7], c[8]]), [
      ['1', ':', '0', '0', '0', '0', 'sh pick.sh in/f001.txt'],
      ['2', ':', '0', '0', '4', '0', 'sh pick.sh in/f002.txt'],
      ['3', ':', '0', '0', '-1', '15', 'sh pick.sh in/f003.txt'],
    ]);
    for (const c of rows) {
      assert.ok(Number(c[2]) >= Math.floor(t0) && /^\d+\.\d{3}$/.test(c[2]), `Starttime in epoch seconds: ${c[2]}`);
      assert.match(c[3], /^\d+\.\d{3}$/);
    }
    const before = fs.readFileSync(path.join(dir, 'jobs.log'), 'utf8');
    const refused = cli(['run', '--joblog', 'jobs.log', '--files', 'in/*.txt', '--out', 'out', '--', 'sh', 'pick.sh', '{}'], dir);
    assert.strictEqual(refused.code, 2, 'the run directory holds a run: refused without --resume');
    assert.strictEqual(fs.readFileSync(path.join(dir, 'jobs.log'), 'utf8'), before, 'the job log is untouched');
    writeFiles(dir, { fixed: '' });
    const again = cli(['run', '--quiet', '--resume', '--joblog', 'jobs.log', '--files', 'in/*.txt', '--out', 'out', '--', 'sh', 'pick.sh', '{}'], dir);
    assert.strictEqual(again.code, 0, again.stderr);
    const after = fs.readFileSync(path.join(dir, 'jobs.log'), 'utf8');
    assert.ok(after.startsWith(before), 'appended');
    assert.deepStrictEqual(after.slice(before.length).trim().split('\n').map((l) => l.split('\t')[6]), ['0', '0']);
    const bad = cli(['run', '--joblog', 'no/such/dir/jobs.log', '--files', 'in/*.txt', '--out', 'out2', '--', 'touch', 'STARTED'], dir);
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /Cannot write the job log .*no\/such\/dir\/jobs\.log \(ENOENT\)/);
    assert.ok(!fs.existsSync(path.join(dir, 'STARTED')) && !fs.existsSync(path.join(dir, 'out2')));
  });

  it('tagLines splits lines across chunk boundaries', async () => {
    const t = tagLines('f');
    const out: Buffer[] = [];
    t.on('data', (b: Buffer) => out.push(b));
    for (const c of ['ab', 'c\nd', '\n', '\n\ne']) t.write(Buffer.from(c));
    t.end();
    await new Promise((r) => t.on('end', r));
    assert.strictEqual(Buffer.concat(out).toString(), 'f\tabc\nf\td\nf\t\nf\t\nf\te');
  });

  it('-k/--keep-order passes output through in input order although later files finish first', () => {
    const dir = tmpDir('pr-cli-');
    inputs(dir, 6);
    // file 1 sleeps longest, file 6 shortest: on 3 workers they finish roughly in reverse
    const r = cli(['run', '-k', '-j', '3', '--files', 'in/*.txt', '--out', 'out', '--', 'sh', '-c', 'sleep "0.$((7 - $1))"; echo "out $1"; echo "err $1" >&2', 'sh', '{#}'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(r.stdout.trim().split('\n'), [1, 2, 3, 4, 5, 6].map((i) => `out ${i}`));
    assert.deepStrictEqual(r.stderr.split('\n').filter((l) => l.startsWith('err ')), [1, 2, 3, 4, 5, 6].map((i) => `err ${i}`));
  });

  it('--resume: a skipped file is a taskSkipped event, and with -k it holds nothing back', () => {
    const dir = tmpDir('pr-cli-');
    inputs(dir, 4);
    // f002 and f004 fail until a file named "fixed" exists (the script itself is part of the run definition)
    writeFiles(dir, { 'pick.sh': 'case "$1" in *f002*|*f004*) [ -e fixed ] || exit 1;; esac\necho "did $1"\n' });
    assert.strictEqual(cli(['run', '--quiet', '--files', 'in/*.txt', '--out', 'out', '--', 'sh', 'pick.sh'], dir).code, 1);
    writeFiles(dir, { fixed: '' });
    const j = cli(['run', '--json', '--resume', '--files', 'in/*.txt', '--out', 'out', '--', 'sh', 'pick.sh'], dir);
    assert.strictEqual(j.code, 0, j.stderr);
    const events = j.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepStrictEqual(events.filter((e) => e.type === 'taskSkipped').map((e) => [e.index, e.file]), [[1, 'in/f001.txt'], [3, 'in/f003.txt']]);
    assert.deepStrictEqual(events.filter((e) => e.type === 'taskFinished').map((e) => e.record.index).sort(), [2, 4]);
    // a third session: nothing left to run, every file skipped; with -k the run still ends at once
    const k = cli(['run', '-k', '--resume', '--files', 'in/*.txt', '--out', 'out', '--', 'sh', 'pick.sh'], dir);
    assert.strictEqual(k.code, 0, k.stderr);
    assert.strictEqual(k.stdout, '');
    assert.match(k.stderr, /4 skipped/);
  });

  it('--dry-run --resume lists only the files still to do', () => {
    const dir = tmpDir('pr-cli-');
    inputs(dir, 4);
    writeFiles(dir, { 'pick.sh': 'case "$1" in *f002*|*f004*) exit 1;; esac\n' });
    const first = cli(['run', '--quiet', '--files', 'in/*.txt', '--out', 'out', '--', 'sh', 'pick.sh'], dir);
    assert.strictEqual(first.code, 1, first.stderr);
    const journal = fs.readFileSync(path.join(dir, 'out', 'journal.ndjson'), 'utf8');
    const r = cli(['run', '--dry-run', '--resume', '--files', 'in/*.txt', '--out', 'out', '--', 'sh', 'pick.sh'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(r.stdout.trim().split('\n'), ['sh pick.sh in/f002.txt', 'sh pick.sh in/f004.txt']);
    assert.match(r.stderr, /2 commands \(2 already succeeded, left out\)/);
    assert.strictEqual(fs.readFileSync(path.join(dir, 'out', 'journal.ndjson'), 'utf8'), journal, 'the journal is untouched');
    const without = cli(['run', '--dry-run', '--files', 'in/*.txt', '--out', 'out', '--', 'sh', 'pick.sh'], dir);
    assert.strictEqual(without.code, 2, 'like a run: the directory holds a run, --resume is needed');
    assert.match(without.stderr, /Pass --resume/);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['-j 0', ['-j', '0'], /-j needs a whole number ≥ 1 \(or \+N, -N, N% of the \d+ cores\), not "0"/],
    ['-j abc', ['-j', 'abc'], /-j needs a whole number ≥ 1 .*, not "abc"/],
    ['-j 0%', ['-j', '0%'], /-j needs a whole number ≥ 1 .*, not "0%"/],
    ['a glob matching nothing', ['--files', 'nothing/*.csv'], /matched nothing/],
    ['an unreadable list', ['--files-from', 'missing.list'], /Cannot read the list file/],
    ['an unknown replacement string', ['--', 'echo', '{/..}'], /Unknown replacement string \{\/\.\.\}/],
    ['a missing script', ['--script', 'nope.py'], /Script .*nope\.py not found/],
    ['a missing interpreter', ['--script', 'x.py', '--python', 'python-nope'], /parallelRun\.python\.path/],
    ['an unwritable output directory', ['--out', 'in/f001.txt/out'], /Cannot write the run directory/],
    ['an unknown option', ['--frobnicate'], /Unknown option --frobnicate/],
    ['a timeout of 50% of the median', ['--timeout', '50%'], /must be above 100%/],
    ['a relative timeout on Slurm', ['--timeout', '200%', '--backend', 'slurm'], /does not apply to --backend slurm/],
    ['a bad --memfree size', ['--memfree', '4X'], /--memfree needs a size such as 4G/],
    ['--memfree on Slurm', ['--memfree', '1G', '--backend', 'slurm'], /--memfree does not apply to --backend slurm/],
  ];
  for (const [what, args, msg] of bad) {
    it(`exit 2 and nothing started for ${what}`, () => {
      const dir = tmpDir('pr-cli-');
      inputs(dir, 1);
      writeFiles(dir, { 'x.py': 'print(1)\n' });
      const full = ['run', ...(args.includes('--files') || args.includes('--files-from') ? [] : ['--files', 'in/*.txt']), ...args];
      if (!full.includes('--') && !full.includes('--script')) full.push('--', 'touch', 'STARTED');
      const r = cli(full, dir);
      assert.strictEqual(r.code, 2, r.stderr);
      assert.match(r.stderr, msg);
      assert.strictEqual(r.stderr.trim().split('\n').length, 1, 'one clear message');
      assert.ok(!fs.existsSync(path.join(dir, 'STARTED')));
      assert.ok(!fs.existsSync(path.join(dir, '.parallel-run')));
    });
  }

  it('SIGINT cancels: exit 130, running tasks killed', async () => {
    const dir = tmpDir('pr-cli-');
    inputs(dir, 6);
    // (`sleep 30 {}` would be `sleep 30 in/1.txt`, which fails at once: the file is ignored here)
    const child = spawn(process.execPath, [CLI, 'run', '-j', '2', '--files', 'in/*.txt', '--out', 'out', '--', 'sh', '-c', 'exec sleep 30', 'sh', '{}'], { cwd: dir, stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    // two Python hosts (they carry the run's marker too) and the two tasks
    assert.ok(await waitFor(() => processesWithEnv('PARALLEL_RUN_SESSION', session(dir)).length >= 4, 20_000), 'tasks running');
    const s = session(dir);
    child.kill('SIGINT');
    assert.strictEqual(await exited, 130);
    await sleep(2000);
    assert.deepStrictEqual(processesWithEnv('PARALLEL_RUN_SESSION', s), []);
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'report.json'), 'utf8'));
    assert.strictEqual(report.status, 'cancelled');
  });

  it('SIGKILL mid-run while short tasks go in batches: --resume gives exactly one success per file, each output made', async () => {
    const dir = tmpDir('pr-cli-');
    const n = 3000;
    const names: string[] = [];
    fs.mkdirSync(path.join(dir, 'in'));
    fs.mkdirSync(path.join(dir, 'results'));
    for (let i = 1; i <= n; i++) {
      names.push(`in/f${String(i).padStart(4, '0')}.txt`);
      fs.writeFileSync(path.join(dir, names[i - 1]), '');
    }
    fs.writeFileSync(path.join(dir, 'list'), names.join('\n') + '\n');
    const what = ['--', 'sh', '-c', ': > "results/${1#in/}.done"', 'sh', '{}'];
    const args = ['run', '-j', '2', '--files-from', 'list', '--out', 'out', '--quiet', ...what];
    const child: ChildProcess = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: 'ignore' });
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    assert.ok(await waitFor(() => journalLines(path.join(dir, 'out')).length >= 300, 30_000), 'some tasks finished');
    child.kill('SIGKILL');
    await exited;
    const before = journalLines(path.join(dir, 'out')).length;
    assert.ok(before < n, `killed mid-run (${before} of ${n} done)`);
    const r = cli([...args.slice(0, 7), '--resume', ...args.slice(7)], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'report.json'), 'utf8'));
    assert.ok(report.batched && report.batched.batches > 0, 'the resumed run used batches');
    const perFile = new Map<string, number>();
    for (const l of journalLines(path.join(dir, 'out'))) if (l.status === 'succeeded') perFile.set(l.file, (perFile.get(l.file) ?? 0) + 1);
    assert.strictEqual(perFile.size, n, 'every file succeeded');
    assert.deepStrictEqual([...perFile.values()].filter((c) => c !== 1), [], 'exactly one success per file');
    assert.strictEqual(fs.readdirSync(path.join(dir, 'results')).length, n, 'every output made');
  });

  for (const mode of ['cold template', 'warm python'] as const) {
    it(`SIGKILL mid-run (${mode}): no process left after 2 s, then --resume gives exactly one success per file`, async () => {
      const dir = tmpDir('pr-cli-');
      const n = 24;
      inputs(dir, n);
      fs.mkdirSync(path.join(dir, 'results'));
      const script = path.join(dir, 'slow.py');
      fs.writeFileSync(script, 'import sys, time, os, shutil\ntime.sleep(0.3)\nshutil.copy(sys.argv[1], os.path.join("results", os.path.basename(sys.argv[1]) + ".done"))\n');
      const what = mode === 'warm python' ? ['--warm', '--script', script] : ['--', 'sh', '-c', 'sleep 0.3 && cp "$1" "results/$(basename "$1").done"', 'sh', '{}'];
      const args = [CLI, 'run', '-j', '2', '--files', 'in/*.txt', '--out', 'out', '--quiet', ...what];
      const child: ChildProcess = spawn(process.execPath, args, { cwd: dir, stdio: 'ignore', env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON } });
      const exited = new Promise<void>((r) => child.on('exit', () => r()));
      assert.ok(await waitFor(() => journalLines(path.join(dir, 'out')).length >= 5, 30_000), 'some tasks finished');
      const s = session(dir);
      assert.ok(processesWithEnv('PARALLEL_RUN_SESSION', s).length > 0, 'the run has live children before the kill');
      child.kill('SIGKILL');
      await exited;
      await sleep(2000);
      assert.deepStrictEqual(processesWithEnv('PARALLEL_RUN_SESSION', s), [], 'no child outlives the killed runner');
      const before = journalLines(path.join(dir, 'out')).length;
      assert.ok(before < n, `killed mid-run (${before} of ${n} done)`);
      const runs = cli(['runs', '--runs-dir', dir, '--json'], dir);
      // 'out' is a run directory directly under dir
      assert.strictEqual(JSON.parse(runs.stdout)[0].status, 'interrupted');

      const r = cli(['run', '-j', '2', '--files', 'in/*.txt', '--out', 'out', '--resume', '--quiet', ...what], dir);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.match(r.stderr, /skipped \(done before\)/);
      const ok = journalLines(path.join(dir, 'out')).filter((l) => l.status === 'succeeded');
      const perFile = new Map<string, number>();
      for (const l of ok) perFile.set(l.file, (perFile.get(l.file) ?? 0) + 1);
      assert.strictEqual(perFile.size, n, 'every file succeeded');
      assert.deepStrictEqual([...perFile.values()].filter((c) => c !== 1), [], 'exactly one success per file');
      for (let i = 1; i <= n; i++) assert.ok(fs.existsSync(path.join(dir, 'results', `f${String(i).padStart(3, '0')}.txt.done`)));
    });
  }

  for (const mode of ['cold template', 'warm python'] as const) {
    it(`SIGKILL mid-run (${mode}): a grandchild that left its task's process group goes too`, async () => {
      const dir = tmpDir('pr-cli-');
      inputs(dir, 4);
      const pids = path.join(dir, 'pids');
      // the task starts a grandchild in a session of its own (out of reach of a kill of the task's
      // group), records its pid, then waits
      const script = path.join(dir, 'escape.py');
      fs.writeFileSync(script, `import subprocess, sys, time
p = subprocess.Popen(["sleep", "300"], start_new_session=True)
with open(${JSON.stringify(pids)}, "a") as f:
    f.write("%d\\n" % p.pid)
time.sleep(300)
`);
      const what = mode === 'warm python' ? ['--warm', '--script', script] : ['--', PYTHON, script, '{}'];
      const child: ChildProcess = spawn(process.execPath, [CLI, 'run', '-j', '2', '--files', 'in/*.txt', '--out', 'out', '--quiet', ...what], { cwd: dir, stdio: 'ignore', env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON } });
      const exited = new Promise<void>((r) => child.on('exit', () => r()));
      const escaped = () => (fs.existsSync(pids) ? fs.readFileSync(pids, 'utf8').trim().split('\n').filter(Boolean).map(Number) : []);
      assert.ok(await waitFor(() => escaped().length >= 2, 30_000), 'two tasks started their grandchildren');
      const s = session(dir);
      child.kill('SIGKILL');
      await exited;
      await sleep(2500);
      assert.deepStrictEqual(escaped().filter(alive), [], 'the grandchildren in their own sessions are gone');
      assert.deepStrictEqual(processesWithEnv('PARALLEL_RUN_SESSION', s), [], 'no process of the run is left');
    });
  }
});

function session(dir: string): string {
  try {
    const def = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'run.json'), 'utf8'));
    return def.sessions[def.sessions.length - 1].session;
  } catch {
    return '\0none';
  }
}
