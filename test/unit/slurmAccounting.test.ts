/**
 * Which source gives the final array task states: `sacct` when the cluster has accounting, else
 * `scontrol show job`.
 *
 * THE TEST CLUSTER HAS NO ACCOUNTING (no slurmdbd: it needs a database server), so the real cluster
 * only exercises the scontrol branch (slurmCluster.test.ts). Here the Slurm client commands are
 * stand-ins in a private bin dir (SlurmClient.binDir) printing rows in Slurm 22.05's real formats (the
 * sacct rows have the shape of rows captured once from the test cluster with slurmdbd + MariaDB
 * attached by hand; see slurmCore.test.ts):
 * - sbatch runs array task 0 FOR REAL through the generated submit.sbatch (SLURM_ARRAY_TASK_ID=0, so
 *   its files go through dist/cli.js and write their shard journal) and prints a job id;
 * - array task 1 never ran: its node failed it (sacct: FAILED, exit 3, on c2);
 * - squeue lists both tasks in final states (squeue has no exit codes or node of a finished task);
 * - scontrol prints DIFFERENT states (COMPLETED, exit 5) and records that it was called.
 * With accounting, the final states must come from sacct and scontrol must not be asked; with the
 * message sacct prints on a cluster without accounting (captured on the test cluster), scontrol is.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { prepareSlurmRun, submitSlurmRun } from '../../extension/core';
import { CLI, testSlurmSettings } from './slurmHelpers';

const SACCT_ROWS = [
  '4242_0|COMPLETED|0:0|2026-11-25T09:00:00|2026-11-25T09:00:03|c1',
  '4242_1|FAILED|3:0|2026-11-25T09:00:00|2026-11-25T09:00:01|c2',
].join('\n');
const SQUEUE_ROWS = '4242_1|FAILED|NonZeroExitCode\n4242_0|COMPLETED|None';
const SCONTROL_ROWS = [
  'JobId=4243 ArrayJobId=4242 ArrayTaskId=1 JobName=pr-cat JobState=COMPLETED Reason=None ExitCode=5:0 StartTime=2026-11-25T09:00:00 EndTime=2026-11-25T09:00:01 NodeList=c1',
  'JobId=4242 ArrayJobId=4242 ArrayTaskId=0 JobName=pr-cat JobState=COMPLETED Reason=None ExitCode=0:0 StartTime=2026-11-25T09:00:00 EndTime=2026-11-25T09:00:03 NodeList=c1',
].join('\n');

function standInBin(dir: string, accounting: boolean): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const calls = path.join(dir, 'calls');
  const write = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/bash\necho "${name} $*" >> '${calls}'\n${body}\n`, { mode: 0o755 });
  // sbatch [--parsable] <script>: run array task 0 through the real script, then print the job id
  write('sbatch', 'script="${@: -1}"\nSLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_JOB_ID=4242 SLURM_CPUS_PER_TASK=1 bash "$script" >/dev/null 2>&1 || exit 9\necho 4242');
  write('squeue', `cat <<'EOF'\n${SQUEUE_ROWS}\nEOF`);
  write('sacct', accounting ? `cat <<'EOF'\n${SACCT_ROWS}\nEOF` : 'echo "Slurm accounting storage is disabled" >&2\nexit 1');
  write('scontrol', `cat <<'EOF'\n${SCONTROL_ROWS}\nEOF`);
  write('scancel', 'exit 0');
  return bin;
}

async function runWith(accounting: boolean) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pr-sacct-${accounting ? 'on' : 'off'}-`));
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  const files = ['a', 'b', 'c', 'd'].map((n) => {
    const f = path.join(data, `${n}.txt`);
    fs.writeFileSync(f, `${n}\n`);
    return f;
  });
  const client = { binDir: standInBin(dir, accounting) };
  const prep = await prepareSlurmRun({
    command: { kind: 'template', argv: ['cat', '{}'] }, files: { kind: 'list', files }, cwd: dir, outDir: path.join(dir, 'run'),
    slurm: testSlurmSettings({ targetTaskSeconds: 2 }), cliPath: CLI, maxArraySize: 1001, client,
  });
  assert.strictEqual(prep.plan.tasks.length, 2, '4 files at the 1 s guess / 2 s target');
  const handle = await submitSlurmRun(prep, { client, pollMinMs: 50, pollMaxMs: 100 });
  const report = await handle.done;
  const calls = fs.readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n');
  return { dir, report, handle, calls, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

describe('slurm: final states from sacct when accounting is on, else scontrol (stand-in client commands)', function () {
  this.timeout(60_000);

  it('with accounting: the sacct states (FAILED, exit 3, node c2) are used and scontrol is never called', async () => {
    const { report, handle, calls, cleanup } = await runWith(true);
    try {
      assert.ok(calls.some((c) => /^sacct .*-j 4242 /.test(c)), calls.join('\n'));
      assert.deepStrictEqual(calls.filter((c) => c.startsWith('scontrol')), [], 'scontrol is not asked when sacct answers');
      assert.strictEqual(report.status, 'failed');
      assert.strictEqual(report.counts.succeeded, 2, 'array task 0 ran for real');
      assert.deepStrictEqual(report.failures.map((f) => [path.basename(f.file), f.exitCode]).sort(), [['c.txt', 3], ['d.txt', 3]]);
      for (const f of report.failures) assert.match(f.stderrTail, /array task ended FAILED/);
      const t1 = handle.arrayTasks().find((s) => s.index === 1)!;
      assert.deepStrictEqual([t1.state, t1.exitCode, t1.nodes], ['FAILED', 3, 'c2'], 'node list and exit code come from sacct (squeue has neither)');
    } finally {
      cleanup();
    }
  });

  it('without accounting ("accounting storage is disabled"): scontrol show job gives the final states', async () => {
    const { report, handle, calls, cleanup } = await runWith(false);
    try {
      assert.ok(calls.some((c) => c.startsWith('sacct ')), 'sacct is tried first');
      assert.ok(calls.some((c) => /^scontrol -o show job 4242$/.test(c)), calls.join('\n'));
      const t1 = handle.arrayTasks().find((s) => s.index === 1)!;
      assert.deepStrictEqual([t1.state, t1.exitCode, t1.nodes], ['COMPLETED', 5, 'c1'], 'scontrol\'s record, not sacct\'s');
      assert.deepStrictEqual(report.failures.map((f) => f.exitCode), [5, 5]);
    } finally {
      cleanup();
    }
  });
});
