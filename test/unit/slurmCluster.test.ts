/**
 * The Slurm backend against a REAL Slurm (scripts/slurm-start.sh: slurmctld + 2 slurmd on loopback,
 * 4 CPUs each, MaxArraySize=10). Each array task runs its files through dist/cli.js, so build first.
 */
import * as assert from 'assert';
import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  cancelSlurmRun, mergeStates, parseScontrolJobs, prepareSlurmRun, readJournal, resubmitFailed, RunReport, SLURM_FILES, SlurmError,
  SlurmPlanFile, SlurmRunHandle, startSlurmRun, TaskRecord, attachSlurmRun,
} from '../../extension/core';
import {
  CLI, ensureCluster, makeWorkspace, processesMentioning, realPython, stillQueued, TEST_CLUSTER, testSlurmSettings, waitFor,
} from './slurmHelpers';

async function journalOf(runDir: string): Promise<TaskRecord[]> {
  const out: TaskRecord[] = [];
  for await (const l of readJournal(path.join(runDir, 'journal.ndjson'))) out.push(l);
  return out;
}

describe('slurm backend on a real cluster', function () {
  this.timeout(240_000);
  let python: string;

  before(function () {
    ensureCluster();
    python = realPython();
  });

  it('submits one array over the fixture files and collects correct per-file results', async () => {
    const ws = makeWorkspace('ok');
    const handle = await startSlurmRun({
      command: { kind: 'python', python, script: 'ok.py', args: [], warm: false },
      files: { kind: 'globs', patterns: ['data/*.txt'], cwd: ws }, cwd: ws, outDir: path.join(ws, 'runs', 'ok'),
      slurm: testSlurmSettings({ targetTaskSeconds: 3, maxConcurrent: 3 }), cliPath: CLI,
    }, { pollMinMs: 200 });
    const events: string[] = [];
    handle.onEvent((e) => events.push(e.type));
    assert.strictEqual(handle.jobIds().length, 1, 'one job array');
    const report = await handle.done;
    const runDir = path.join(ws, 'runs', 'ok');
    assert.strictEqual(report.status, 'succeeded', JSON.stringify(report.failures));
    assert.strictEqual(report.backend, 'slurm');
    assert.strictEqual(report.counts.total, 12);
    assert.strictEqual(report.counts.succeeded, 12);
    // per-file results written by the script itself, correct contents
    for (const f of fs.readdirSync(path.join(ws, 'data'))) {
      const text = fs.readFileSync(path.join(ws, 'data', f), 'utf8');
      const want = `${text.split('\n').length - 1} ${text.split(/\s+/).filter(Boolean).length}\n`;
      assert.strictEqual(fs.readFileSync(path.join(ws, 'out', f.replace(/\.txt$/, '.out')), 'utf8'), want, f);
    }
    // the merged journal: one line per file, global indices, slot = array task (timeline lane)
    const journal = await journalOf(runDir);
    assert.deepStrictEqual(journal.map((r) => r.index), Array.from({ length: 12 }, (_, i) => i + 1));
    const plan = JSON.parse(fs.readFileSync(path.join(runDir, 'slurm', 'plan.json'), 'utf8')) as SlurmPlanFile;
    assert.strictEqual(plan.tasks.length, 4, '12 files × 1 s guess / 3 s target');
    assert.deepStrictEqual([...new Set(journal.map((r) => r.slot))].sort(), [1, 2, 3, 4]);
    assert.strictEqual(report.workers, 3, 'lanes capped by %3');
    for (const r of journal) {
      assert.ok(fs.existsSync(path.join(runDir, r.stdoutLog)), r.stdoutLog);
      assert.match(fs.readFileSync(path.join(runDir, r.stdoutLog), 'utf8'), /lines/);
      assert.strictEqual(r.threadEnv.OMP_NUM_THREADS, '1');
    }
    const script = fs.readFileSync(path.join(runDir, 'slurm', 'submit.sbatch'), 'utf8');
    assert.match(script, /#SBATCH --array=0-3%3/);
    assert.ok(script.includes(`PYTHON=${python}`), 'python written into the script');
    assert.ok(script.includes(`NODE=${process.execPath}`), 'node written into the script');
    // report.json on disk = the final report; events came through
    const onDisk = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8')) as RunReport;
    assert.strictEqual(onDisk.status, 'succeeded');
    assert.ok(events.includes('runFinished') && events.includes('taskFinished'));
    assert.strictEqual(stillQueued(handle.jobIds()), '');
  });

  it('a failing file shows as failed with its exit code; re-run failed resubmits only those', async () => {
    const ws = makeWorkspace('fail');
    const runDir = path.join(ws, 'runs', 'fail');
    const handle = await startSlurmRun({
      command: { kind: 'python', python, script: 'fail_some.py', args: [], warm: false },
      files: { kind: 'folder', path: path.join(ws, 'data'), recursive: false }, cwd: ws, outDir: runDir,
      slurm: testSlurmSettings(), cliPath: CLI, retries: 1,
    }, { pollMinMs: 200 });
    const report = await handle.done;
    assert.strictEqual(report.status, 'failed');
    assert.strictEqual(report.counts.succeeded, 10);
    assert.strictEqual(report.counts.failed, 2);
    const failed = report.failures.map((f) => [path.basename(f.file), f.exitCode]).sort();
    assert.deepStrictEqual(failed, [['a03.txt', 3], ['a07.txt', 3]]);
    for (const f of report.failures) {
      assert.match(fs.readFileSync(path.join(runDir, f.stderrLog), 'utf8'), /refusing this file/);
    }
    const journal = await journalOf(runDir);
    assert.strictEqual(journal.find((r) => r.file.endsWith('a03.txt'))!.attempts, 2, 'retried once inside the array task');
    // the array task that held a failing file exited non-zero in Slurm too
    const states = mergeStates(parseScontrolJobs(cp.execFileSync('scontrol', ['-o', 'show', 'job', String(handle.jobIds()[0])], { encoding: 'utf8' })));
    assert.ok([...states.values()].some((s) => s.state === 'FAILED' && s.exitCode === 1), 'a FAILED array task');

    // fix the cause, then re-run failed: only the two files are submitted
    fs.writeFileSync(path.join(ws, 'fixed.flag'), '');
    const again = await resubmitFailed(runDir, { slurm: testSlurmSettings(), cliPath: CLI }, { pollMinMs: 200 });
    const r2 = await again.done;
    assert.strictEqual(r2.status, 'succeeded', JSON.stringify(r2.failures));
    assert.deepStrictEqual(r2.tasks.map((t) => path.basename(t.file)).sort(), ['a03.txt', 'a07.txt']);
    assert.strictEqual(r2.counts.total, 2);
    assert.match(r2.label ?? '', /failed files/);
    const plan2 = JSON.parse(fs.readFileSync(path.join(again.outDir, 'slurm', 'plan.json'), 'utf8')) as SlurmPlanFile;
    assert.strictEqual(plan2.parentRunDir, runDir);
    // measured times from the first run were used for packing the second
    assert.match(plan2.notes.join(' '), /measured in run/);
  });

  it('cancel → scancel: the run is marked cancelled, nothing stays queued or running', async () => {
    const ws = makeWorkspace('cancel');
    const runDir = path.join(ws, 'runs', 'cancel');
    const handle: SlurmRunHandle = await startSlurmRun({
      command: { kind: 'python', python, script: 'slow.py', args: ['60', '--fork'], warm: false },
      files: { kind: 'globs', patterns: ['data/*.txt'], cwd: ws }, cwd: ws, outDir: runDir,
      slurm: testSlurmSettings({ targetTaskSeconds: 1 }), cliPath: CLI,
    }, { pollMinMs: 200 });
    await waitFor('a running array task', () => (handle.arrayStates().RUNNING ?? 0) > 0, 60_000);
    await waitFor('a task process', () => processesMentioning(path.join(ws, 'slow.py')).length > 0, 60_000);
    handle.cancel();
    const report = await handle.done;
    assert.strictEqual(report.status, 'cancelled');
    assert.strictEqual(report.counts.cancelled, 12);
    assert.strictEqual(stillQueued(handle.jobIds()), '');
    assert.ok(fs.existsSync(path.join(runDir, 'slurm', SLURM_FILES.submission)));
    assert.ok(JSON.parse(fs.readFileSync(path.join(runDir, 'slurm', SLURM_FILES.submission), 'utf8')).cancelledAt > 0);
    // scancel kills the whole job step: the scripts and their forked grandchildren are gone
    await waitFor('no task processes left', () => processesMentioning(path.join(ws, 'slow.py')).length === 0, 20_000);
    const onDisk = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8')) as RunReport;
    assert.strictEqual(onDisk.status, 'cancelled');
  });

  it('a per-file timeout inside an array task: both files time out, with their logs', async () => {
    const ws = makeWorkspace('timeout');
    const runDir = path.join(ws, 'runs', 'timeout');
    const files = ['a01.txt', 'a02.txt'].map((f) => path.join(ws, 'data', f));
    const handle = await startSlurmRun({
      command: { kind: 'python', python, script: 'slow.py', args: ['30'], warm: false },
      files: { kind: 'list', files }, cwd: ws, outDir: runDir, timeoutSec: 1,
      slurm: testSlurmSettings({ targetTaskSeconds: 30 }), cliPath: CLI,
    }, { pollMinMs: 200 });
    const report = await handle.done;
    const plan = JSON.parse(fs.readFileSync(path.join(runDir, 'slurm', 'plan.json'), 'utf8')) as SlurmPlanFile;
    assert.strictEqual(plan.tasks.length, 1, 'both files in one array task');
    assert.strictEqual(report.status, 'failed');
    assert.strictEqual(report.counts.timedOut, 2, JSON.stringify(report.counts));
    assert.strictEqual(report.counts.succeeded, 0);
    const journal = await journalOf(runDir);
    assert.deepStrictEqual(journal.map((r) => r.status), ['timedOut', 'timedOut']);
    for (const r of journal) {
      assert.ok(fs.existsSync(path.join(runDir, r.stdoutLog)), r.stdoutLog);
      assert.ok(fs.existsSync(path.join(runDir, r.stderrLog)), r.stderrLog);
    }
    assert.match(fs.readFileSync(path.join(runDir, 'slurm', 'submit.sbatch'), 'utf8'), /--timeout/);
  });

  it('runs across both node daemons (multi-node) with --cpus-per-task = threads and BLAS vars from SLURM_CPUS_PER_TASK', async () => {
    const ws = makeWorkspace('multi');
    const runDir = path.join(ws, 'runs', 'multi');
    // 4 CPUs per task and 4 per node: each node holds one task at a time, so 4 tasks need both nodes
    fs.writeFileSync(path.join(ws, 'env.py'), 'import os,sys,time\ntime.sleep(1.5)\nprint(os.environ.get("SLURMD_NODENAME"), os.environ.get("OMP_NUM_THREADS"), os.environ.get("SLURM_CPUS_PER_TASK"))\n');
    const handle = await startSlurmRun({
      command: { kind: 'python', python, script: 'env.py', args: [], warm: false },
      files: { kind: 'list', files: fs.readdirSync(path.join(ws, 'data')).slice(0, 8).map((f) => path.join(ws, 'data', f)) },
      cwd: ws, outDir: runDir, threads: TEST_CLUSTER.cpusPerNode,
      slurm: testSlurmSettings({ targetTaskSeconds: 2 }), cliPath: CLI,
    }, { pollMinMs: 200 });
    const report = await handle.done;
    assert.strictEqual(report.status, 'succeeded', JSON.stringify(report.failures));
    const nodes = new Set<string>();
    for (const t of report.tasks) {
      const [node, omp, cpus] = fs.readFileSync(path.join(runDir, t.stdoutLog), 'utf8').trim().split(' ');
      nodes.add(node);
      assert.strictEqual(omp, '4');
      assert.strictEqual(cpus, '4');
      assert.strictEqual(t.threadEnv.OMP_NUM_THREADS, '4');
    }
    assert.deepStrictEqual([...nodes].sort(), ['c1', 'c2']);
    assert.match(fs.readFileSync(path.join(runDir, 'slurm', 'submit.sbatch'), 'utf8'), /#SBATCH --cpus-per-task=4/);
    const fromSlurm = new Set(handle.arrayTasks().map((s) => s.nodes).filter(Boolean));
    assert.ok(fromSlurm.has('c1') && fromSlurm.has('c2'), `scontrol NodeList: ${[...fromSlurm]}`);
  });

  it(`splits an array beyond the cluster's MaxArraySize (${TEST_CLUSTER.maxArraySize}) into several and collects them all`, async () => {
    const ws = makeWorkspace('split');
    const runDir = path.join(ws, 'runs', 'split');
    const many = path.join(ws, 'many');
    fs.mkdirSync(many);
    const n = TEST_CLUSTER.maxArraySize + 3;
    for (let i = 0; i < n; i++) fs.writeFileSync(path.join(many, `f${String(i).padStart(3, '0')}.txt`), `${i}\n`);
    const handle = await startSlurmRun({
      command: { kind: 'template', argv: ['cat', '{}'] },
      files: { kind: 'folder', path: many, recursive: false }, cwd: ws, outDir: runDir,
      slurm: testSlurmSettings({ targetTaskSeconds: 0.001 }), cliPath: CLI,
    }, { pollMinMs: 300 });
    assert.strictEqual(handle.jobIds().length, 2, 'two sbatch arrays');
    const report = await handle.done;
    assert.strictEqual(report.status, 'succeeded', JSON.stringify(report.failures.slice(0, 3)));
    assert.strictEqual(report.counts.succeeded, n);
    const plan = JSON.parse(fs.readFileSync(path.join(runDir, 'slurm', 'plan.json'), 'utf8')) as SlurmPlanFile;
    assert.strictEqual(plan.maxArraySize, TEST_CLUSTER.maxArraySize, 'read from scontrol show config');
    assert.deepStrictEqual(plan.parts.map((p) => [p.offset, p.count]), [[0, 10], [10, 3]]);
    assert.deepStrictEqual(new Set(report.tasks.map((t) => t.slot)).size, n, 'one lane per array task across both arrays');
    for (const t of report.tasks) {
      const i = Number(path.basename(t.file).slice(1, 4));
      assert.strictEqual(fs.readFileSync(path.join(runDir, t.stdoutLog), 'utf8'), `${i}\n`);
    }
    const readme = fs.readFileSync(path.join(runDir, 'slurm', 'README.txt'), 'utf8');
    assert.match(readme, /sbatch --array=0-9 submit\.sbatch 0/);
    assert.match(readme, /sbatch --array=0-2 submit\.sbatch 10/);
    assert.match(report.notes.join(' '), /exceed the cluster's MaxArraySize \(10\): submitted as 2 arrays/);
  });

  it('re-attaches to a submitted run (e.g. after a restart) and collects it', async () => {
    const ws = makeWorkspace('attach');
    const runDir = path.join(ws, 'runs', 'attach');
    const first = await startSlurmRun({
      command: { kind: 'template', argv: ['cat', '{}'] },
      files: { kind: 'globs', patterns: ['data/a0*.txt'], cwd: ws }, cwd: ws, outDir: runDir,
      slurm: testSlurmSettings(), cliPath: CLI,
    }, { pollMinMs: 200 });
    await first.done;
    const again = await attachSlurmRun(runDir, { pollMinMs: 200 });
    const r = await again.done;
    assert.strictEqual(r.status, 'succeeded');
    assert.strictEqual(r.counts.succeeded, 9);
    assert.strictEqual((await journalOf(runDir)).length, 9, 'collect is idempotent: still one line per file');
  });

  it('names the problem and the fix when sbatch is missing or the controller is unreachable; nothing is written', async () => {
    const ws = makeWorkspace('errors');
    const base = {
      command: { kind: 'template' as const, argv: ['cat', '{}'] },
      files: { kind: 'globs' as const, patterns: ['data/*.txt'], cwd: ws }, cwd: ws,
      slurm: testSlurmSettings(), cliPath: CLI,
    };
    const emptyBin = fs.mkdtempSync(path.join(ws, 'nobin-'));
    await assert.rejects(
      prepareSlurmRun({ ...base, outDir: path.join(ws, 'runs', 'missing'), client: { binDir: emptyBin } }),
      (e: unknown) => e instanceof SlurmError && e.kind === 'missing' && /"scontrol" was not found/.test(e.message) && /apt install slurm-client/.test(e.message),
    );
    assert.ok(!fs.existsSync(path.join(ws, 'runs', 'missing')), 'nothing written');
    // a slurm.conf pointing at a port where no controller listens. MessageTimeout=1: Slurm's clients
    // retry connecting for MessageTimeout seconds (default 10) before they give up; the same error, fast
    const conf = `${fs.readFileSync('/etc/slurm/slurm.conf', 'utf8').replace(/^SlurmctldPort=.*$/m, 'SlurmctldPort=6999')}\nMessageTimeout=1\n`;
    const confFile = path.join(ws, 'slurm.conf');
    fs.writeFileSync(confFile, conf);
    await assert.rejects(
      prepareSlurmRun({ ...base, outDir: path.join(ws, 'runs', 'unreachable'), client: { env: { ...process.env, SLURM_CONF: confFile } } }),
      (e: unknown) => e instanceof SlurmError && e.kind === 'unreachable' && /Cannot reach the Slurm controller/.test(e.message) && /scontrol ping/.test(e.message),
    );
    assert.ok(!fs.existsSync(path.join(ws, 'runs', 'unreachable')));
    // a job the cluster refuses (no such partition): sbatch's reason plus the settings to fix
    const prep = await prepareSlurmRun({ ...base, outDir: path.join(ws, 'runs', 'rejected'), slurm: testSlurmSettings({ partition: 'nosuchpartition' }) });
    const { submitSlurmRun } = await import('../../extension/core');
    await assert.rejects(submitSlurmRun(prep), (e: unknown) => e instanceof SlurmError && e.kind === 'rejected' && /invalid partition/i.test(e.message) && /parallelRun\.slurm\.partition/.test(e.message));
    await assert.rejects(cancelSlurmRun(path.join(ws, 'runs', 'rejected')), /not a submitted Slurm run/);
  });

  it('CLI: parallel-run run --backend slurm submits, waits and exits 1 with the failures; --dry-run only writes files', () => {
    const ws = makeWorkspace('cli');
    const r = cp.spawnSync(process.execPath, [CLI, 'run', '--backend', 'slurm', '--files', 'data/*.txt', '--out', 'runs/cli', '--script', 'fail_some.py', '--python', python, '--target-task-seconds', '4'],
      { cwd: ws, encoding: 'utf8', timeout: 180_000 });
    assert.strictEqual(r.status, 1, r.stderr);
    assert.match(r.stderr, /submitted job array \d+: 12 files in 3 array tasks/);
    assert.match(r.stderr, /failed: 10 succeeded, 2 failed/);
    assert.match(r.stderr, /a03\.txt \(exit 3\)/);
    const report = JSON.parse(fs.readFileSync(path.join(ws, 'runs', 'cli', 'report.json'), 'utf8')) as RunReport;
    assert.strictEqual(report.backend, 'slurm');

    // --resume: only the files not yet succeeded are submitted; the others count as skipped
    fs.writeFileSync(path.join(ws, 'fixed.flag'), '');
    const resumed = cp.spawnSync(process.execPath, [CLI, 'run', '--backend', 'slurm', '--resume', '--files', 'data/*.txt', '--out', 'runs/cli', '--script', 'fail_some.py', '--python', python],
      { cwd: ws, encoding: 'utf8', timeout: 180_000 });
    assert.strictEqual(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /2 files in 1 array tasks/);
    const r2 = JSON.parse(fs.readFileSync(path.join(ws, 'runs', 'cli', 'report.json'), 'utf8')) as RunReport;
    assert.deepStrictEqual([r2.status, r2.counts.total, r2.counts.skipped, r2.counts.succeeded], ['succeeded', 12, 10, 2]);
    const lines = fs.readFileSync(path.join(ws, 'runs', 'cli', 'journal.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TaskRecord);
    assert.strictEqual(lines.length, 12);
    assert.ok(lines.every((l) => l.status === 'succeeded'));

    const dry = cp.spawnSync(process.execPath, [CLI, 'run', '--backend', 'slurm', '--dry-run', '--files', 'data/*.txt', '--out', 'runs/dry', '--partition', 'astro', '--time', '02:00:00',
      '--sbatch', '--qos=high', '--max-array-size', '2', '--target-task-seconds', '1', '--threads', '2', '--', 'wc', '-l', '{}'], { cwd: ws, encoding: 'utf8' });
    assert.strictEqual(dry.status, 0, dry.stderr);
    const sdir = path.join(ws, 'runs', 'dry', 'slurm');
    const script = fs.readFileSync(path.join(sdir, 'submit.sbatch'), 'utf8');
    assert.match(script, /#SBATCH --partition=astro\n#SBATCH --time=02:00:00\n/);
    assert.match(script, /#SBATCH --qos=high/);
    assert.match(script, /#SBATCH --cpus-per-task=2/);
    assert.match(script, /#SBATCH --output=logs\/%A_%a\.out/, 'portable log paths for another cluster');
    assert.strictEqual(cp.spawnSync('bash', ['-n', path.join(sdir, 'submit.sbatch')]).status, 0, 'valid bash');
    assert.strictEqual(fs.readFileSync(path.join(sdir, 'manifest.txt'), 'utf8').trim().split('\n').length, 12);
    const readme = fs.readFileSync(path.join(sdir, 'README.txt'), 'utf8');
    assert.match(readme, /On another cluster: copy this folder there/);
    assert.match(readme, /sbatch --array=0-1 submit\.sbatch 10/, '12 tasks split by MaxArraySize 2');
    assert.ok(!fs.existsSync(path.join(sdir, SLURM_FILES.submission)), 'nothing submitted');
    assert.ok(!fs.existsSync(path.join(ws, 'runs', 'dry', 'report.json')));
    assert.match(dry.stderr, /nothing submitted/);

    const bad = cp.spawnSync(process.execPath, [CLI, 'run', '--partition', 'debug', '--files', 'data/*.txt', '--', 'true'], { cwd: ws, encoding: 'utf8' });
    assert.strictEqual(bad.status, 2);
    assert.match(bad.stderr, /need --backend slurm/);
    const halt = cp.spawnSync(process.execPath, [CLI, 'run', '--backend', 'slurm', '--halt', '--files', 'data/*.txt', '--', 'true'], { cwd: ws, encoding: 'utf8' });
    assert.strictEqual(halt.status, 2);
    assert.match(halt.stderr, /--halt does not apply to --backend slurm/);
  });
  it('CLI: Ctrl-C (SIGINT) while an array task runs → scancel, exit 130, nothing left in the queue', async () => {
    const ws = makeWorkspace('sigint');
    const child = cp.spawn(process.execPath, [CLI, 'run', '--backend', 'slurm', '--files', 'data/a0[12].txt', '--out', 'runs/sigint', '--script', 'slow.py', '--python', python, '--', '60'],
      { cwd: ws, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor('the submission line', () => /submitted job array (\d+)/.test(stderr), 60_000);
      const jobId = Number(/submitted job array (\d+)/.exec(stderr)![1]);
      await waitFor('a running array task', () => / RUNNING$/m.test(stillQueued([jobId])), 60_000);
      await waitFor('a task process', () => processesMentioning(path.join(ws, 'slow.py')).length > 0, 60_000);
      child.kill('SIGINT');
      assert.strictEqual(await exited, 130, stderr);
      assert.strictEqual(stillQueued([jobId]), '', 'scancel left nothing queued or running');
      const report = JSON.parse(fs.readFileSync(path.join(ws, 'runs', 'sigint', 'report.json'), 'utf8')) as RunReport;
      assert.strictEqual(report.status, 'cancelled');
      await waitFor('no task processes left', () => processesMentioning(path.join(ws, 'slow.py')).length === 0, 20_000);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
