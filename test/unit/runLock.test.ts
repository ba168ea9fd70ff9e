/**
 * One runner per run directory: the lock (atomic, with the runner's pid and start time), stale-lock
 * recovery, and two CLI runs started at the same instant on one --out (one runs, the other exits 2).
 */
import * as assert from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { acquireRunLock, lockHolder, processStartTicks } from '../../extension/core/run/runLock';
import { attachSlurmRun } from '../../extension/core/slurm/backend';
import { UsageError } from '../../extension/core/run/types';
import { CLI, journalLines, PYTHON, tmpDir, waitFor, writeFiles } from './engineHelpers';

function locks(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.startsWith('run.lock'));
}

/** Runs the CLI without waiting; resolves with its exit code and stderr. */
function cliAsync(args: string[], cwd: string): { done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON } });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return { done: new Promise((r) => child.on('close', (code) => r({ code, stderr }))) };
}

describe('run directory lock', function () {
  this.timeout(120_000);

  it('is exclusive: a second taker is refused naming the holder; released, it can be taken again', () => {
    const dir = tmpDir('pr-lock-');
    const lock = acquireRunLock(dir);
    assert.deepStrictEqual(lockHolder(dir)?.holder.pid, process.pid);
    assert.throws(() => acquireRunLock(dir), (e: Error) => e instanceof UsageError && e.message.includes(`in use by a running run (pid ${process.pid})`));
    lock.release();
    assert.deepStrictEqual(locks(dir), []);
    acquireRunLock(dir).release();
  });

  it('a stale lock (its runner gone, or its pid reused by another process) is taken over and removed', () => {
    const dir = tmpDir('pr-lock-');
    const dead = spawnSync('true').pid!;
    fs.writeFileSync(path.join(dir, 'run.lock.1'), JSON.stringify({ pid: dead, pidStart: '1', host: os.hostname(), since: 0 }));
    // a live pid whose start time is not the recorded one: the pid was reused
    fs.writeFileSync(path.join(dir, 'run.lock.2'), JSON.stringify({ pid: process.ppid, pidStart: `${processStartTicks(process.ppid)}9`, host: os.hostname(), since: 0 }));
    assert.strictEqual(lockHolder(dir), undefined);
    const lock = acquireRunLock(dir);
    assert.deepStrictEqual(locks(dir), ['run.lock.3']);
    lock.release();
    assert.deepStrictEqual(locks(dir), []);
  });

  it('two CLI runs started at the same instant on one --out: one runs every file once, the other exits 2 with the message', async () => {
    for (let trial = 0; trial < 4; trial++) {
      const dir = tmpDir('pr-lock-');
      writeFiles(dir, Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`in/f${i}.txt`, ''])));
      const args = ['run', '-j', '2', '--files', 'in/*.txt', '--out', 'out', '--quiet', '--', 'sh', '-c', 'sleep 0.2', 'sh', '{}'];
      const [a, b] = await Promise.all([cliAsync(args, dir).done, cliAsync(args, dir).done]);
      const codes = [a.code, b.code].sort();
      assert.deepStrictEqual(codes, [0, 2], `trial ${trial}: exit codes ${a.code} ${b.code}\n${a.stderr}\n${b.stderr}`);
      const loser = a.code === 2 ? a : b;
      assert.match(loser.stderr, /in use by a running run \(pid \d+\)|already holds run/);
      const lines = journalLines(path.join(dir, 'out'));
      assert.strictEqual(lines.length, 10, `trial ${trial}: ${lines.length} task runs for 10 files`);
      assert.deepStrictEqual(locks(path.join(dir, 'out')), [], 'the lock is gone after the run');
    }
  });

  it('--resume while the run is still going exits 2 and changes nothing', async () => {
    const dir = tmpDir('pr-lock-');
    writeFiles(dir, { 'in/a.txt': '', 'in/b.txt': '', 'in/c.txt': '' });
    const args = ['run', '-j', '1', '--files', 'in/*.txt', '--out', 'out', '--quiet', '--', 'sh', '-c', 'sleep 1', 'sh', '{}'];
    const first = cliAsync(args, dir);
    assert.ok(await waitFor(() => fs.existsSync(path.join(dir, 'out', 'run.json')), 30_000), 'the first run started');
    const second = await cliAsync([...args.slice(0, 8), '--resume', ...args.slice(8)], dir).done;
    assert.strictEqual(second.code, 2, second.stderr);
    assert.match(second.stderr, /in use by a running run \(pid \d+\)/);
    const r = await first.done;
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(journalLines(path.join(dir, 'out')).length, 3);
  });

  it('a second watcher of a Slurm run (collecting its shards into the same journal) is refused', async () => {
    const dir = tmpDir('pr-lock-');
    fs.mkdirSync(path.join(dir, 'slurm'));
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ version: 1, runId: 'r', sessions: [] }));
    fs.writeFileSync(path.join(dir, 'slurm', 'plan.json'), JSON.stringify({ version: 1, tasks: [] }));
    fs.writeFileSync(path.join(dir, 'slurm', 'submission.json'), JSON.stringify({ version: 1, submittedAt: 0, jobs: [] }));
    const lock = acquireRunLock(dir); // the first watcher
    await assert.rejects(attachSlurmRun(dir), (e: Error) => e instanceof UsageError && e.message.includes(`in use by a running run (pid ${process.pid})`));
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')).sessions, [], 'run.json untouched');
    lock.release();
  });
});
