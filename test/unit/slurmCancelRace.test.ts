/**
 * scancel signals every process of an array task at once, so a file's script can die of the signal
 * BEFORE the in-job runner hears it is being cancelled: the runner then journals that file as failed
 * (killed by SIGTERM). On the real cluster this order happens rarely (seen once in the cancel test:
 * 11 of 12 files cancelled). Here the stand-in `scancel` forces it: it signals the running script,
 * waits for the runner to journal the file, and only then signals the runner. The array task runs FOR
 * REAL (stand-in `sbatch` starts the generated submit.sbatch in the background: dist/cli.js, real
 * Python); squeue/scontrol report RUNNING until scancel finished, then CANCELLED.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { prepareSlurmRun, submitSlurmRun } from '../../extension/core';
import { CLI, realPython, testSlurmSettings } from './slurmHelpers';

function standInBin(dir: string): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const flag = path.join(dir, 'scancelled');
  const write = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  const state = `if [ -e '${flag}' ]; then S=CANCELLED; else S=RUNNING; fi`;
  write('sbatch', `script="\${@: -1}"\nSLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_JOB_ID=4242 SLURM_CPUS_PER_TASK=1 setsid bash "$script" >'${dir}/task.out' 2>&1 </dev/null &\necho 4242`);
  write('squeue', `${state}\necho "4242_0|$S|None"`);
  write('sacct', 'echo "Slurm accounting storage is disabled" >&2\nexit 1');
  write('scontrol', `${state}\necho "JobId=4242 ArrayJobId=4242 ArrayTaskId=0 JobName=pr JobState=$S Reason=None ExitCode=0:15 StartTime=2026-12-05T09:00:00 EndTime=2026-12-05T09:00:05 NodeList=c1"`);
  // the script first; once the runner journaled its death, the runner; then the task is over
  write('scancel', [
    `pkill -TERM -f 'python[^ ]* ${dir}/slow.py'`, // the script (the runner's --script is not preceded by python)
    `for i in $(seq 100); do grep -q SIGTERM '${dir}'/run/slurm/shards/*/journal.ndjson 2>/dev/null && break; sleep 0.1; done`,
    `pkill -TERM -f 'cli.js run --files-from - --out ${dir}/'`,
    `for i in $(seq 100); do pgrep -f 'cli.js run --files-from - --out ${dir}/' >/dev/null || break; sleep 0.1; done`,
    `touch '${flag}'`,
  ].join('\n'));
  return bin;
}

describe('slurm: a file whose script died of scancel before its runner did counts as cancelled (stand-in client commands)', function () {
  this.timeout(90_000);

  it('the shard journal says failed (SIGTERM); the run says cancelled, with no failures', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-scancel-race-'));
    try {
      fs.writeFileSync(path.join(dir, 'slow.py'), 'import sys, time\nprint("working on", sys.argv[1], flush=True)\ntime.sleep(60)\n');
      fs.mkdirSync(path.join(dir, 'data'));
      const files = ['a', 'b'].map((n) => {
        const f = path.join(dir, 'data', `${n}.txt`);
        fs.writeFileSync(f, `${n}\n`);
        return f;
      });
      const client = { binDir: standInBin(dir) };
      const prep = await prepareSlurmRun({
        command: { kind: 'python', python: realPython(), script: path.join(dir, 'slow.py'), args: [], warm: false },
        files: { kind: 'list', files }, cwd: dir, outDir: path.join(dir, 'run'),
        slurm: testSlurmSettings({ targetTaskSeconds: 600 }), cliPath: CLI, maxArraySize: 1001, client,
      });
      assert.strictEqual(prep.plan.tasks.length, 1, 'both files in one array task');
      const handle = await submitSlurmRun(prep, { client, pollMinMs: 50, pollMaxMs: 100 });
      const t0 = Date.now();
      while (!fs.readdirSync(path.join(dir, 'run', 'slurm', 'shards')).length || !/working on/.test(readLogs(dir))) {
        if (Date.now() - t0 > 30_000) throw new Error(`the array task did not start a file:\n${safeRead(path.join(dir, 'task.out'))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await handle.cancel();
      const report = await handle.done;

      const shardJournal = fs.readdirSync(path.join(dir, 'run', 'slurm', 'shards')).map((s) => safeRead(path.join(dir, 'run', 'slurm', 'shards', s, 'journal.ndjson'))).join('');
      const shardLines = shardJournal.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { file: string; status: string; signal: string | null });
      const died = shardLines.find((l) => path.basename(l.file) === 'a.txt');
      assert.deepStrictEqual([died?.status, died?.signal], ['failed', 'SIGTERM'], `the race happened: the runner journaled a.txt failed by SIGTERM\n${shardJournal}`);

      assert.strictEqual(report.status, 'cancelled');
      assert.deepStrictEqual({ cancelled: report.counts.cancelled, failed: report.counts.failed }, { cancelled: 2, failed: 0 });
      assert.deepStrictEqual(report.failures, []);
      const a = report.tasks.find((t) => path.basename(t.file) === 'a.txt')!;
      assert.strictEqual(a.status, 'cancelled');
      assert.match(a.stderrTail, /cancelled \(scancel\) while this file ran/);
      assert.ok(fs.existsSync(path.join(dir, 'run', a.stdoutLog)), 'its log is kept');
      assert.match(fs.readFileSync(path.join(dir, 'run', a.stdoutLog), 'utf8'), /working on .*a\.txt/);
      // the merged journal has no line for a cancelled file: a resume runs it again
      const merged = safeRead(path.join(dir, 'run', 'journal.ndjson'));
      assert.ok(!/a\.txt/.test(merged), merged);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

function safeRead(f: string): string {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return '';
  }
}

/** All the per-file stdout logs the array task has written so far. */
function readLogs(dir: string): string {
  const shards = path.join(dir, 'run', 'slurm', 'shards');
  let out = '';
  for (const s of fs.readdirSync(shards)) {
    const logs = path.join(shards, s, 'logs');
    if (!fs.existsSync(logs)) continue;
    for (const f of fs.readdirSync(logs)) if (f.endsWith('.out')) out += safeRead(path.join(logs, f));
  }
  return out;
}
