/**
 * The CLI's head start on the task workers (core/run/taskPool.ts): a worker started before the run is
 * planned starts nothing until the run takes it, then runs the run's tasks with the run's init; one no
 * run takes (or that is for another worker script) is ended.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { startRun } from '../../extension/core/run/engine';
import { dropPrestartedPool, prestartTaskPool } from '../../extension/core/run/taskPool';
import { baseOptions, collect, journalLines, sleep, tmpDir, WORKERS_DIR, writeFiles } from './engineHelpers';

const SCRIPT = path.join(WORKERS_DIR, 'taskWorker.js');

/** Pids of this process's children (hosts, tasks...). */
function children(): Set<number> {
  const out = new Set<number>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) === process.pid) out.add(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('task pool: the first worker started ahead of the run', function () {
  this.timeout(60_000);
  afterEach(() => dropPrestartedPool());

  it('starts no process while it waits; the run takes it, its worker gets the run\'s init and runs the tasks', async () => {
    const dir = tmpDir('pr-taskpool-');
    writeFiles(dir, { 'in/a.txt': 'a', 'in/b.txt': 'b', 'in/c.txt': 'c' });
    const before = children();
    const pool = prestartTaskPool(SCRIPT);
    assert.ok(pool, 'a pool was started ahead');
    assert.strictEqual(prestartTaskPool(SCRIPT), undefined, 'one head start at a time');
    await sleep(1500); // time for the thread to boot and reach its wait
    assert.strictEqual(pool.stats().totalWorkers, 1);
    const started = [...children()].filter((p) => !before.has(p));
    assert.deepStrictEqual(started, [], 'no host or task before the run hands over its init');
    const h = await startRun(baseOptions(dir, { workers: 2, command: { kind: 'template', argv: ['sh', '-c', 'echo "$PARALLEL_RUN_SESSION $1"', 'sh', '{}'] } }));
    const { report } = await collect(h);
    assert.strictEqual(report.status, 'succeeded');
    const lines = journalLines(h.outDir);
    assert.strictEqual(lines.length, 3);
    const session = lines[0].session;
    for (const l of lines) assert.match(l.stdoutTail, new RegExp(`^${session} in/[abc]\\.txt\\n$`), 'each task has the run\'s environment');
    // the run took the pool started ahead and ended it with the run
    assert.strictEqual(pool.stats().totalWorkers, 0);
  });

  it('a pool no run takes is ended, and so is one for another worker script (the run starts its own)', async () => {
    const pool = prestartTaskPool(SCRIPT)!;
    assert.strictEqual(pool.stats().totalWorkers, 1);
    await dropPrestartedPool();
    assert.strictEqual(pool.stats().totalWorkers, 0);

    const dir = tmpDir('pr-taskpool-');
    writeFiles(dir, { 'in/a.txt': 'a' });
    const other = prestartTaskPool(`${WORKERS_DIR}/./taskWorker.js`)!;
    const h = await startRun(baseOptions(dir, {}));
    const { report } = await collect(h);
    assert.strictEqual(report.status, 'succeeded');
    assert.strictEqual(report.counts.succeeded, 1);
    await sleep(200);
    assert.strictEqual(other.stats().totalWorkers, 0);
  });
});
