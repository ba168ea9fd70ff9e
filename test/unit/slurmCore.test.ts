/**
 * Pure Slurm backend logic: packing, array splitting, sbatch script generation, the watcher's poll
 * backoff and the parsers for squeue / scontrol / sacct output. The squeue and scontrol samples were
 * captured from Slurm 22.05 on the test cluster. The test cluster has no accounting (no slurmdbd), so
 * the `153_*` sacct rows are hand-written in sacct's format; the `1204_*` / `1207_*` rows were captured
 * once (2026-11-25) from the test cluster with slurmdbd 22.05.8 + MariaDB attached by hand.
 */
import * as assert from 'assert';
import * as cp from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  arraySpec, GUESSED_SECONDS_PER_FILE, nextPollDelay, validateSettings, measuredTimesFromHistory, jobNameFor, mergeStates, normaliseExtraDirectives, packFiles, parseArrayIndices,
  parseExitCode, parseJobId, parseKeyValues, parseMaxArraySize, parseSacct, parseSbatchJobId, parseScontrolJobs, parseSqueue,
  renderSbatchScript, sacctDisabled, SbatchScriptSpec, shellQuote, splitArrays, THREAD_ENV_VARS,
} from '../../extension/core';

const files = (n: number) => Array.from({ length: n }, (_, i) => `/data/f${String(i).padStart(4, '0')}.txt`);

describe('slurm: array index ranges', () => {
  const table: Array<[string, number[]]> = [
    ['7', [7]],
    ['2-5', [2, 3, 4, 5]],
    ['[2-5]', [2, 3, 4, 5]],
    ['[3-9%3]', [3, 4, 5, 6, 7, 8, 9]],
    ['3-9%3', [3, 4, 5, 6, 7, 8, 9]],
    ['1,3,7-9', [1, 3, 7, 8, 9]],
    ['[0-10:5]', [0, 5, 10]],
    ['5,5,4', [4, 5]],
  ];
  for (const [expr, want] of table) {
    it(`expands ${expr}`, () => assert.deepStrictEqual(parseArrayIndices(expr), want));
  }
  it('rejects garbage with a RangeError naming the part', () => {
    assert.throws(() => parseArrayIndices('2-x'), /bad array index "2-x"/);
    assert.throws(() => parseArrayIndices('5-2'), RangeError);
    assert.throws(() => parseArrayIndices('[]'), RangeError);
  });
  it('parses job ids with and without array parts', () => {
    assert.deepStrictEqual(parseJobId('123'), { jobId: 123 });
    assert.deepStrictEqual(parseJobId('123_4'), { jobId: 123, indices: [4] });
    assert.deepStrictEqual(parseJobId('29_[2-5]'), { jobId: 29, indices: [2, 3, 4, 5] });
  });
});

describe('slurm: squeue / scontrol / sacct parsing', () => {
  it('squeue -t all lines incl. a throttled pending range', () => {
    const text = '1_[3-9%3]|PENDING|JobArrayTaskLimit\n1_2|RUNNING|None\n1_1|FAILED|NonZeroExitCode\n1_0|COMPLETED|None\n';
    const s = parseSqueue(text);
    assert.strictEqual(s.length, 10);
    const byIndex = new Map(s.map((x) => [x.index, x]));
    assert.strictEqual(byIndex.get(5)!.state, 'PENDING');
    assert.strictEqual(byIndex.get(5)!.reason, 'JobArrayTaskLimit');
    assert.strictEqual(byIndex.get(1)!.state, 'FAILED');
    assert.strictEqual(byIndex.get(0)!.state, 'COMPLETED');
    assert.ok(s.every((x) => x.arrayJobId === 1));
  });

  it('scontrol -o show job: key=values with spaces, pending range records, exit codes', () => {
    const pending = 'JobId=1 ArrayJobId=1 ArrayTaskId=3-9%3 ArrayTaskThrottle=3 JobName=t.sh UserId=root(0) JobState=PENDING Reason=JobArrayTaskLimit ExitCode=0:0 StartTime=Unknown EndTime=Unknown AllocNode:Sid=localhost:7218 NodeList=(null) Command=/tmp/my dir/t.sh WorkDir=/tmp/sl';
    const failed = 'JobId=3 ArrayJobId=1 ArrayTaskId=1 JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0 StartTime=2026-11-25T02:46:07 EndTime=2026-11-25T02:46:09 NodeList=c1';
    const cancelled = 'JobId=9 ArrayJobId=1 ArrayTaskId=7 JobState=CANCELLED Reason=None ExitCode=0:15 StartTime=2026-11-25T02:46:10 EndTime=2026-11-25T02:46:11 NodeList=c2';
    const kv = parseKeyValues(pending);
    assert.strictEqual(kv.Command, '/tmp/my dir/t.sh');
    assert.strictEqual(kv['AllocNode:Sid'], 'localhost:7218');
    const s = parseScontrolJobs([pending, failed, cancelled, ''].join('\n'));
    const m = mergeStates(s);
    assert.strictEqual(m.get('1_4')!.state, 'PENDING');
    assert.strictEqual(m.get('1_1')!.state, 'FAILED');
    assert.strictEqual(m.get('1_1')!.exitCode, 3);
    assert.strictEqual(m.get('1_1')!.nodes, 'c1');
    assert.strictEqual(m.get('1_1')!.startTime, new Date('2026-11-25T02:46:07').getTime());
    assert.strictEqual(m.get('1_1')!.endTime! - m.get('1_1')!.startTime!, 2000);
    // the later (cancelled) record overrides the pending range's entry for index 7
    assert.strictEqual(m.get('1_7')!.state, 'CANCELLED');
    assert.strictEqual(m.get('1_7')!.signal, 15);
    assert.strictEqual(m.get('1_4')!.startTime, null);
  });

  it('sacct -P rows, "CANCELLED by 0" normalised, disabled accounting detected', () => {
    const text = '153_1|FAILED|3:0|2026-11-25T02:46:07|2026-11-25T02:46:08|c1\n153_2|CANCELLED by 0|0:15|2026-11-25T02:46:07|2026-11-25T02:46:09|c2\n153_[4-5]|PENDING|0:0|Unknown|Unknown|None assigned\n';
    const s = mergeStates(parseSacct(text));
    assert.strictEqual(s.get('153_1')!.exitCode, 3);
    assert.strictEqual(s.get('153_2')!.state, 'CANCELLED');
    assert.strictEqual(s.get('153_5')!.state, 'PENDING');
    assert.strictEqual(s.get('153_5')!.nodes, undefined);
    // captured: an array task that exited 3, and a throttled pending range cancelled by scancel
    const real = mergeStates(parseSacct([
      '1204_0|COMPLETED|0:0|2026-11-25T09:47:48|2026-11-25T09:47:49|c1',
      '1204_1|FAILED|3:0|2026-11-25T09:47:48|2026-11-25T09:47:49|c1',
      '1207_0|CANCELLED by 0|0:0|2026-11-25T09:47:56|2026-11-25T09:47:59|c1',
      '1207_[1-2%1]|CANCELLED by 0|0:0|2026-11-25T09:47:59|2026-11-25T09:47:59|None assigned',
    ].join('\n')));
    assert.deepStrictEqual([real.get('1204_1')!.state, real.get('1204_1')!.exitCode, real.get('1204_1')!.nodes], ['FAILED', 3, 'c1']);
    assert.strictEqual(real.get('1204_0')!.state, 'COMPLETED');
    assert.deepStrictEqual([1, 2].map((i) => real.get(`1207_${i}`)!.state), ['CANCELLED', 'CANCELLED']);
    assert.strictEqual(real.get('1207_2')!.nodes, undefined);
    assert.ok(sacctDisabled('Slurm accounting storage is disabled'));
    assert.ok(!sacctDisabled('153_1|FAILED|3:0'));
  });

  it('exit codes, MaxArraySize and sbatch --parsable output', () => {
    assert.deepStrictEqual(parseExitCode('3:0'), { exitCode: 3, signal: 0 });
    assert.deepStrictEqual(parseExitCode('0:15'), { exitCode: 0, signal: 15 });
    assert.deepStrictEqual(parseExitCode(''), { exitCode: null, signal: null });
    assert.strictEqual(parseMaxArraySize('MaxArraySize            = 40\nMaxJobCount = 10000\n'), 40);
    assert.strictEqual(parseMaxArraySize('MaxJobCount = 10000\n'), 1001);
    assert.strictEqual(parseSbatchJobId('42\n'), 42);
    assert.strictEqual(parseSbatchJobId('42;cluster\n'), 42);
    assert.throws(() => parseSbatchJobId('Submitted batch job'), /no job id/);
  });
});

describe('slurm: packing files into array tasks', () => {
  it('guesses 1 s per file without measurements, says so, and targets ≥ target seconds', () => {
    const plan = packFiles(files(100), { targetTaskSeconds: 30 });
    assert.strictEqual(GUESSED_SECONDS_PER_FILE, 1);
    assert.strictEqual(plan.basis, 'guess');
    assert.strictEqual(plan.tasks.length, 4); // 100 s / 30 s
    assert.match(plan.notes.join(' '), /guessed 1\.0 s per file/);
    assert.strictEqual(plan.tasks.reduce((a, t) => a + t.count, 0), 100);
    // contiguous, in order, every file exactly once
    let next = 0;
    for (const t of plan.tasks) {
      assert.strictEqual(t.first, next);
      assert.ok(t.count >= 1);
      next += t.count;
    }
  });

  it('uses measured times: slow files get their own task, fast ones are grouped', () => {
    const f = files(10);
    const perFileMs = new Map<string, number>(f.map((x) => [x, 100]));
    perFileMs.set(f[0], 60_000); // one slow file
    const plan = packFiles(f, { targetTaskSeconds: 30, measured: { perFileMs, source: 'run X' } });
    assert.strictEqual(plan.basis, 'measured');
    assert.match(plan.notes[0], /measured in run X: 10 of 10 files/);
    assert.strictEqual(plan.tasks.length, 3); // 60.9 s / 30
    assert.strictEqual(plan.tasks[0].count, 1); // the slow file alone
    assert.strictEqual(plan.tasks.reduce((a, t) => a + t.count, 0), 10);
  });

  it('tiny measured tasks pack everything into one array task; never more tasks than files', () => {
    const f = files(1000);
    assert.strictEqual(packFiles(f, { targetTaskSeconds: 30, measured: { meanMs: 10, source: 'sweep' } }).tasks.length, 1);
    assert.strictEqual(packFiles(files(3), { targetTaskSeconds: 0.001 }).tasks.length, 3);
    assert.strictEqual(packFiles(f, { targetTaskSeconds: 0.5, maxTasks: 7 }).tasks.length, 7);
    assert.strictEqual(packFiles([], { targetTaskSeconds: 30 }).tasks.length, 0);
    assert.throws(() => packFiles(f, { targetTaskSeconds: 0 }), RangeError);
  });

  it('unmeasured files take the measured mean', () => {
    const f = files(20);
    const perFileMs = new Map<string, number>([[f[0], 10_000], [f[1], 10_000]]);
    const plan = packFiles(f, { targetTaskSeconds: 50, measured: { perFileMs, source: 'r' } });
    assert.strictEqual(plan.estimateTotalSec, 200);
    assert.strictEqual(plan.tasks.length, 4);
  });

  it('splits beyond MaxArraySize and writes array specs with %K', () => {
    assert.deepStrictEqual(splitArrays(95, 40), [
      { part: 0, offset: 0, count: 40 },
      { part: 1, offset: 40, count: 40 },
      { part: 2, offset: 80, count: 15 },
    ]);
    assert.deepStrictEqual(splitArrays(40, 40), [{ part: 0, offset: 0, count: 40 }]);
    assert.strictEqual(arraySpec(10, 4), '0-9%4');
    assert.strictEqual(arraySpec(10, 0), '0-9');
    assert.strictEqual(arraySpec(1, 0), '0');
  });
});

describe('slurm: defaults and the watcher\'s backoff', () => {
  it('packs for 30 s per array task by default, and package.json declares the same default', () => {
    assert.strictEqual(validateSettings({}).slurm.targetTaskSeconds, 30);
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8'));
    const sections = Array.isArray(pkg.contributes.configuration) ? pkg.contributes.configuration : [pkg.contributes.configuration];
    const decl = sections.map((c: { properties?: Record<string, { default?: unknown }> }) => c.properties?.['parallelRun.slurm.targetTaskSeconds']).find(Boolean);
    assert.ok(decl, 'parallelRun.slurm.targetTaskSeconds is contributed');
    assert.strictEqual(decl.default, 30);
    // the default is what the packer gets: 100 files at the 1 s/file guess → 4 array tasks
    assert.strictEqual(packFiles(files(100), { targetTaskSeconds: validateSettings({}).slurm.targetTaskSeconds }).tasks.length, 4);
  });

  it('poll delay grows ×1.5 while nothing changes, up to the max, and resets on a change', () => {
    const seq: number[] = [];
    let d = 250;
    for (let i = 0; i < 10; i++) seq.push((d = nextPollDelay(d, false, 250, 5000)));
    assert.deepStrictEqual(seq, [375, 563, 845, 1268, 1902, 2853, 4280, 5000, 5000, 5000]);
    assert.strictEqual(nextPollDelay(5000, true, 250, 5000), 250, 'a change resets to the minimum');
    assert.strictEqual(nextPollDelay(1268, true, 250, 5000), 250);
    assert.strictEqual(nextPollDelay(100, false, 250, 5000), 250, 'never below the minimum');
    assert.strictEqual(nextPollDelay(4000, false, 250, 4500), 4500, 'capped at the maximum');
  });
});

describe('slurm: sbatch script generation', () => {
  const base: SbatchScriptSpec = {
    runId: 'r1', label: "nightly 'fits'", slurmDir: '/runs/r1/slurm', arrayCount: 12, totalTasks: 12, totalFiles: 300, parts: 1,
    maxConcurrent: 4, cpusPerTask: 2, partition: 'short', timeLimit: '00:30:00', memory: '2G', account: 'astro',
    extraDirectives: ['--qos=high', '#SBATCH --mail-type=END', 'constraint=avx2'],
    node: '/usr/bin/node', cli: '/opt/pr/dist/cli.js',
    command: { kind: 'python', python: '/usr/bin/python3.11', script: '/w/my script.py', args: ['--out', "it's"], warm: false },
    cwd: '/w', timeoutSec: 60, retries: 2, env: { FOO: 'a b$c' }, taskDigits: 5,
  };

  it('has the directives, explicit executables, thread vars from SLURM_CPUS_PER_TASK and the CLI call', () => {
    const s = renderSbatchScript(base);
    assert.match(s, /^#!\/bin\/bash\n/);
    for (const d of ['--array=0-11%4', '--cpus-per-task=2', '--partition=short', '--time=00:30:00', '--mem=2G', '--account=astro',
      '--qos=high', '--mail-type=END', '--constraint=avx2', '--output=/runs/r1/slurm/logs/%A_%a.out', '--error=/runs/r1/slurm/logs/%A_%a.err', '--job-name=pr-nightly_fits']) {
      assert.ok(s.includes(`#SBATCH ${d}\n`), `missing #SBATCH ${d}\n${s}`);
    }
    // all #SBATCH lines come before the first command (sbatch stops reading them there)
    const firstCmd = s.split('\n').findIndex((l) => l && !l.startsWith('#'));
    assert.ok(s.split('\n').slice(firstCmd).every((l) => !l.startsWith('#SBATCH')));
    assert.match(s, /^NODE=\/usr\/bin\/node$/m);
    assert.match(s, /^PYTHON=\/usr\/bin\/python3\.11$/m);
    assert.match(s, /^THREADS="\$\{SLURM_CPUS_PER_TASK:-1\}"$/m);
    for (const v of THREAD_ENV_VARS) assert.match(s, new RegExp(`^export ${v}="\\$THREADS"$`, 'm'));
    assert.match(s, /^export FOO='a b\$c'$/m);
    assert.match(s, /^ {2}--python "\$PYTHON" --script '\/w\/my script\.py' \\$/m);
    assert.match(s, /^ {2}--timeout 60 --retries 2 \\$/m);
    assert.match(s, /^ {2}-- --out 'it'\\''s' \\$/m);
    assert.match(s, /^ {2}< <\(sed -n "\$\{FIRST\},\$\{LAST\}p" "\$SLURM_DIR\/manifest\.txt"\)$/m);
  });

  it('is valid bash and runs the CLI with the exact arguments (checked by running it with a stand-in node)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-sbatch-'));
    // task 42 = manifest lines 3..4
    fs.writeFileSync(path.join(dir, 'tasks.txt'), Array.from({ length: 50 }, (_, t) => (t === 42 ? '42 3 4\n' : `${t} 1 1\n`)).join(''));
    fs.writeFileSync(path.join(dir, 'manifest.txt'), '/d/a b.txt\n/d/2\n/d/three\n/d/fo\'ur\n/d/5\n');
    const fakeNode = path.join(dir, 'node.sh');
    // a stand-in "node" that prints its argv, one per line, then the file list it got on stdin
    fs.writeFileSync(fakeNode, '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\nprintf "OMP=%s\\n" "$OMP_NUM_THREADS"\ncat\n', { mode: 0o755 });
    const s = renderSbatchScript({ ...base, node: fakeNode, slurmDir: dir, cwd: dir });
    const script = path.join(dir, 'submit.sbatch');
    fs.writeFileSync(script, s);
    const out = cp.execFileSync('bash', [script, '40'], { env: { ...process.env, SLURM_ARRAY_TASK_ID: '2', SLURM_CPUS_PER_TASK: '3' }, encoding: 'utf8' });
    const argv = out.trim().split('\n');
    assert.deepStrictEqual(argv, [
      '/opt/pr/dist/cli.js', 'run', '--files-from', '-', '--out', path.join(dir, 'shards/00042'),
      '-j', '1', '--threads', '3', '--quiet', '--timeout', '60', '--retries', '2',
      '--python', '/usr/bin/python3.11', '--script', '/w/my script.py', '--', '--out', "it's", 'OMP=3',
      '/d/three', "/d/fo'ur",
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('template commands, NUL lists, portable log paths, hostile values quoted', () => {
    const s = renderSbatchScript({
      ...base, parts: 3, extraDirectives: [], nulLists: true, portable: true, partition: '', memory: '', account: '',
      command: { kind: 'template', argv: ['wc', '-l', '{}', '$(rm -rf /)', '`x`;y'] },
    });
    assert.match(s, /#SBATCH --output=logs\/%A_%a\.out/);
    assert.ok(!/--partition|--mem|--account/.test(s));
    assert.match(s, /MaxArraySize/);
    assert.match(s, /--files-from - -0 \\$/m);
    assert.match(s, /sed -z -n/);
    assert.ok(s.includes(`'$(rm -rf /)'`));
    assert.ok(s.includes("'`x`;y'"));
    assert.ok(!s.includes('PYTHON='));
  });

  it('rejects directives Parallel Run owns and line breaks in settings', () => {
    assert.throws(() => normaliseExtraDirectives(['--array=0-3']), /--array, which Parallel Run writes itself/);
    assert.throws(() => normaliseExtraDirectives(['--qos=a\n#SBATCH --array=1']), /line break/);
    assert.throws(() => renderSbatchScript({ ...base, partition: 'a\nb' }), /partition contains a line break/);
    assert.throws(() => renderSbatchScript({ ...base, env: { 'BAD-NAME': '1' } }), /not valid in a shell script/);
    assert.deepStrictEqual(normaliseExtraDirectives(['', '  --gres=gpu:1 ']), ['--gres=gpu:1']);
  });

  it('quotes for the shell and names jobs', () => {
    assert.strictEqual(shellQuote('plain/path-1.txt'), 'plain/path-1.txt');
    assert.strictEqual(shellQuote("a'b"), `'a'\\''b'`);
    assert.strictEqual(shellQuote(''), "''");
    assert.strictEqual(jobNameFor(undefined, { kind: 'python', python: 'p', script: '/x/analyze.py', args: [], warm: false }), 'pr-analyze.py');
    assert.strictEqual(jobNameFor('  ', { kind: 'template', argv: ['/bin/wc', '{}'] }), 'pr-wc');
  });
});

describe('slurm: measured task times from history', () => {
  it('takes per-file times from the newest earlier run of the same script in the same folder, else a sweep', async () => {
    const runs = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-hist-'));
    const cwd = '/w';
    const command = { kind: 'python' as const, python: '/usr/bin/python3', script: '/w/a.py', args: [], warm: false };
    const mk = (name: string, createdAt: number, cmd: object, lines: object[], sweep?: object) => {
      const d = path.join(runs, name);
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'run.json'), JSON.stringify({ runId: name, createdAt, cwd, command: cmd }));
      fs.writeFileSync(path.join(d, 'journal.ndjson'), lines.map((l) => JSON.stringify(l) + '\n').join(''));
      if (sweep) fs.writeFileSync(path.join(d, 'sweep.json'), JSON.stringify(sweep));
    };
    const line = (file: string, wallMs: number, status = 'succeeded') => ({ file, wallMs, status, attempts: 1, index: 1 });
    assert.strictEqual(await measuredTimesFromHistory(runs, command, cwd), undefined);
    mk('sweep', 1, command, [], { perFileMs: 1500 });
    const fromSweep = await measuredTimesFromHistory(runs, command, cwd);
    assert.strictEqual(fromSweep!.meanMs, 1500);
    assert.match(fromSweep!.source, /speedup sweep sweep/);
    mk('old', 2, command, [line('/w/d/1.txt', 100)]);
    mk('new', 3, command, [line('d/1.txt', 700), line('d/2.txt', 900), line('d/3.txt', 5, 'failed')]);
    mk('other', 4, { ...command, script: '/w/b.py' }, [line('/w/d/1.txt', 1)]);
    const m = await measuredTimesFromHistory(runs, command, cwd);
    assert.match(m!.source, /run new \(2 tasks\)/);
    assert.deepStrictEqual([...m!.perFileMs!.entries()], [['/w/d/1.txt', 700], ['/w/d/2.txt', 900]]);
    // the run being prepared is excluded
    assert.match((await measuredTimesFromHistory(runs, command, cwd, path.join(runs, 'new')))!.source, /run old/);
    fs.rmSync(runs, { recursive: true, force: true });
  });
});
