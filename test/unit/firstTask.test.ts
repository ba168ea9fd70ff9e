/**
 * A run's first task is run by the runner's own thread (core/run/firstTask.ts), through an
 * exec host it starts itself or spawned from Node: it must be recorded, measured, stopped and killed
 * exactly as a task worker's task is. Both ways, each over a run whose later tasks go to the pool.
 */
import * as assert from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { startRun } from '../../extension/core/run/engine';
import type { RunOptions } from '../../extension/core/run/types';
import { alive, baseOptions, CLI, collect, journalLines, processesWithEnv, sleep, tmpDir, waitFor, writeFiles } from './engineHelpers';

const WAYS: Array<{ name: string; spawnVia: RunOptions['spawnVia'] }> = [
  { name: 'through its exec host', spawnVia: 'auto' },
  { name: 'spawned from Node', spawnVia: 'node' },
];

/** A task that starts a grandchild, writes "<its pid> <the grandchild's pid>" to <file>.pids, then waits. */
const LINGER = ['sh', '-c', 'sleep 30 & echo $$ $! > "$1.pids"; wait', 'sh', '{}'];

function pidsOf(file: string): number[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

describe('the first task, run by the runner\'s thread', function () {
  this.timeout(60_000);

  it('the run\'s CPU sampler (its code loaded once the first task is on its way) still samples a one-task run, and one with nothing left to run', async () => {
    if (process.platform !== 'linux') return;
    const dir = tmpDir('pr-first-');
    writeFiles(dir, { 'in/a.txt': '' });
    const opts = baseOptions(dir, { workers: 1 });
    const first = await collect(await startRun(opts));
    assert.strictEqual(first.report.counts.succeeded, 1);
    const resumed = await collect(await startRun({ ...opts, resume: true }));
    assert.strictEqual(resumed.report.counts.skipped, 1, 'nothing left to run');
    for (const { report } of [first, resumed]) {
      assert.ok(report.cpuSamples.length >= 1, `a CPU sample (${report.cpuSamples.length})`);
      assert.ok(report.load && report.load.samples >= 1, JSON.stringify(report.load));
    }
  });

  for (const way of WAYS) {
    it(`${way.name}: journaled, logged and in results.csv as every other task, with the run's environment`, async () => {
      const dir = tmpDir('pr-first-');
      writeFiles(dir, { 'in/a.txt': '0', 'in/b.txt': '3', 'in/c.txt': '0' });
      // each task: the run's marker, its sequence and slot on stdout, a line on stderr, exit code = its file
      const argv = ['sh', '-c', 'echo "$PARALLEL_RUN_SESSION $PARALLEL_SEQ $PARALLEL_JOBSLOT"; echo "err $1" >&2; exit "$(cat "$1")"', 'sh', '{}'];
      const h = await startRun(baseOptions(dir, { workers: 1, spawnVia: way.spawnVia, command: { kind: 'template', argv } }));
      const { report } = await collect(h);
      assert.strictEqual(report.status, 'failed');
      const lines = journalLines(h.outDir);
      assert.deepStrictEqual(lines.map((l) => [l.file, l.status, l.exitCode, l.attempts]), [
        ['in/a.txt', 'succeeded', 0, 1],
        ['in/b.txt', 'failed', 3, 1],
        ['in/c.txt', 'succeeded', 0, 1],
      ]);
      const session = lines[0].session;
      for (const [i, l] of lines.entries()) {
        assert.strictEqual(l.stdoutTail, `${session} ${i + 1} 1\n`, 'the run\'s environment, its sequence and slot');
        assert.strictEqual(l.stderrTail, `err ${l.file}\n`);
        assert.strictEqual(fs.readFileSync(path.join(h.outDir, l.stdoutLog), 'utf8'), l.stdoutTail, 'its log file');
        assert.strictEqual(l.slot, 1);
        assert.ok(l.wallMs >= 0 && l.end >= l.start);
      }
      if (way.spawnVia === 'auto') {
        // measured by its host (wait4) as the pool's tasks are: peak RSS even of a task this short
        for (const l of lines) assert.ok(l.maxRssKb > 0, `${l.file}: peak RSS measured (${l.maxRssKb})`);
      }
      const csv = fs.readFileSync(path.join(h.outDir, 'results.csv'), 'utf8').trim().split('\n');
      assert.strictEqual(csv.length, 4, 'a header and one row per task');
      const cols = csv[0].split(',');
      const rows = csv.slice(1).map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i], v])));
      assert.deepStrictEqual(rows.map((r) => [r.file, r.status]), [['in/a.txt', 'succeeded'], ['in/b.txt', 'failed'], ['in/c.txt', 'succeeded']]);
      if (way.spawnVia === 'auto') assert.ok(Number(rows[0].max_rss_mb) > 0, `the first row has its peak RSS (${rows[0].max_rss_mb})`);
      assert.strictEqual(report.counts.succeeded, 2);
      assert.strictEqual(report.counts.failed, 1);
    });

    it(`${way.name}: a cancel kills it and its grandchild; the file is journaled cancelled`, async () => {
      const dir = tmpDir('pr-first-');
      writeFiles(dir, { 'in/a.txt': '', 'in/b.txt': '' });
      const h = await startRun(baseOptions(dir, { workers: 1, spawnVia: way.spawnVia, command: { kind: 'template', argv: LINGER } }));
      const done = collect(h);
      const pidFile = path.join(dir, 'in/a.txt.pids');
      assert.ok(await waitFor(() => pidsOf(pidFile).length === 2, 20_000), 'the first task started its grandchild');
      const pids = pidsOf(pidFile);
      h.cancel();
      const { report } = await done;
      assert.strictEqual(report.status, 'cancelled');
      const lines = journalLines(h.outDir);
      assert.deepStrictEqual(lines.map((l) => [l.file, l.status]), [['in/a.txt', 'cancelled']], 'the second file never started');
      assert.strictEqual(lines[0].signal, 'SIGTERM', 'killed, not left to end');
      assert.ok(!fs.existsSync(path.join(dir, 'in/b.txt.pids')));
      assert.ok(await waitFor(() => pids.filter(alive).length === 0, 5000), `task and grandchild gone (${pids.filter(alive)})`);
    });

    it(`${way.name}: its timeout kills its whole tree, and its retry goes to the pool`, async () => {
      const dir = tmpDir('pr-first-');
      writeFiles(dir, { 'in/a.txt': '' });
      const h = await startRun(baseOptions(dir, { workers: 1, spawnVia: way.spawnVia, timeoutSec: 1, retries: 1, command: { kind: 'template', argv: LINGER } }));
      const pidFile = path.join(dir, 'in/a.txt.pids');
      assert.ok(await waitFor(() => pidsOf(pidFile).length === 2, 20_000), 'the first attempt started its grandchild');
      const first = pidsOf(pidFile);
      const { report, events } = await collect(h);
      assert.ok(events.some((e) => e.type === 'taskRetried' && e.index === 1 && e.attempt === 2), 'retried after the timeout');
      const lines = journalLines(h.outDir);
      assert.deepStrictEqual(lines.map((l) => [l.file, l.status, l.attempts]), [['in/a.txt', 'timedOut', 2]]);
      assert.strictEqual(report.counts.timedOut, 1);
      const second = pidsOf(pidFile);
      assert.notDeepStrictEqual(second, first, 'the retry ran again');
      assert.ok(await waitFor(() => [...first, ...second].filter(alive).length === 0, 5000), 'both attempts\' trees are gone');
    });

    it(`${way.name}: a runner killed (SIGKILL) while it runs leaves no process of the run`, async () => {
      const dir = tmpDir('pr-first-');
      writeFiles(dir, { 'in/a.txt': '' });
      const env = { ...process.env, ...(way.spawnVia === 'node' ? { PARALLEL_RUN_SPAWN_VIA: 'node' } : {}) };
      const child: ChildProcess = spawn(process.execPath, [CLI, 'run', '-j', '1', '--files', 'in/*.txt', '--out', 'out', '--quiet', '--', ...LINGER], { cwd: dir, stdio: 'ignore', env });
      const exited = new Promise<void>((r) => child.on('exit', () => r()));
      const pidFile = path.join(dir, 'in/a.txt.pids');
      assert.ok(await waitFor(() => pidsOf(pidFile).length === 2, 20_000), 'the first task started its grandchild');
      const pids = pidsOf(pidFile);
      const def = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'run.json'), 'utf8'));
      const session = def.sessions[def.sessions.length - 1].session;
      child.kill('SIGKILL');
      await exited;
      assert.ok(await waitFor(() => pids.filter(alive).length === 0, 5000), `task and grandchild gone (${pids.filter(alive)})`);
      await sleep(200);
      assert.deepStrictEqual(processesWithEnv('PARALLEL_RUN_SESSION', session), [], 'no process of the run is left');
    });
  }
});
