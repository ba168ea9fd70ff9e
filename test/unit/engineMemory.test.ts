/**
 * --memfree while tasks run: below half of SIZE available, the youngest running task is killed and put
 * back in the queue (never the last one running). The decision as a pure function; the gate with a
 * given memory reading; and real runs of the CLI inside a memory-limited cgroup made below this
 * process's own, where two tasks together leave less than half of --memfree.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { MemoryGate, youngestToKill } from '../../extension/core/run/memoryGate';
import { CLI, journalLines, memoryCgroupBelowOurs, PYTHON, tmpDir, writeFiles } from './engineHelpers';

const MiB = 1024 * 1024;

describe('memory gate (--memfree): the youngest task is killed below half', () => {
  const t = (id: number, startedAt: number) => ({ id, startedAt });

  it('below half of SIZE with two or more running: the latest started (ties: the later file)', () => {
    assert.strictEqual(youngestToKill([t(1, 100), t(2, 300), t(3, 200)], 49, 100), 2);
    assert.strictEqual(youngestToKill([t(4, 100), t(7, 100)], 0, 100), 7);
    assert.strictEqual(youngestToKill([t(7, 100), t(4, 100)], 0, 100), 7);
  });

  it('at half or above, with one task running, or without --memfree: none', () => {
    assert.strictEqual(youngestToKill([t(1, 100), t(2, 300)], 50, 100), undefined);
    assert.strictEqual(youngestToKill([t(1, 100)], 0, 100), undefined, 'the last one running is never killed');
    assert.strictEqual(youngestToKill([], 0, 100), undefined);
    assert.strictEqual(youngestToKill([t(1, 100), t(2, 300)], 0, 0), undefined);
  });

  it('the gate kills one at a time, requeues only a task that did not succeed anyway, and says so', () => {
    let available = 10;
    const kills: Array<[number, number]> = [];
    const gate = new MemoryGate({ memFreeBytes: 100, running: () => 3, stopping: () => false, kill: (id, slot) => kills.push([id, slot]), available: () => available, intervalMs: 60_000 });
    gate.started(1, 1, 1000);
    gate.started(2, 2, 2000);
    gate.started(3, 3, 3000);
    gate.check();
    gate.check(); // the first kill's memory is not back yet: no second kill
    assert.deepStrictEqual(kills, [[3, 3]]);
    assert.strictEqual(gate.ended(3, false), true, 'killed for memory: back in the queue');
    gate.check();
    assert.deepStrictEqual(kills, [[3, 3], [2, 2]]);
    assert.strictEqual(gate.ended(2, true), false, 'it succeeded before the kill reached it: its result stands');
    gate.check();
    assert.deepStrictEqual(kills.length, 2, 'the last task running is never killed');
    assert.strictEqual(gate.ended(1, false), false, 'a failure the gate did not cause is a failure');
    available = 1000;
    gate.close();
    assert.deepStrictEqual(gate.notes(), ['Memory: 1 task was killed when less than half of 100 B was available (--memfree) and put back in the queue to run again (the youngest running task goes; the last one running never does; a kill for memory is not a failed attempt).']);
  });
});

/**
 * Each task appends "name pid" to `starts`, allocates (and touches) 220 MiB, and keeps it until the
 * process of another start is gone (the task killed for memory, or the one that ran before), or 60 s.
 * With the runner in a 640 MiB cgroup (the runner itself takes 40-120 MiB) and --memfree 450M: both
 * start (nothing is allocated yet); together they leave under 225 MiB (half), so the youngest is
 * killed; while the other holds its memory, less than 450 MiB is available, so the killed one waits
 * and runs again alone.
 */
const HOG = [
  'import os, sys, time',
  'def gone(pid):',
  '    try:',
  '        os.kill(pid, 0)',
  '        return False',
  '    except ProcessLookupError:',
  '        return True',
  'def hog(file):',
  '    marks = os.environ["PR_MARKS"]',
  '    name = os.path.basename(file)',
  '    with open(os.path.join(marks, "starts"), "a") as f:',
  '        f.write(f"{name} {os.getpid()}\\n")',
  '    held = b"\\x01" * (220 * 1024 * 1024)',
  '    deadline = time.time() + 60',
  '    while time.time() < deadline:',
  '        others = [int(l.split()[1]) for l in open(os.path.join(marks, "starts")) if int(l.split()[1]) != os.getpid()]',
  '        if any(gone(p) for p in others):',
  '            break',
  '        time.sleep(0.05)',
  '    print("done", name, len(held))',
  '    return {"held": len(held)}',
  'if __name__ == "__main__":',
  '    hog(sys.argv[1])',
  '',
].join('\n');

/** The CLI, started by a small Python program that first moves itself into the cgroup (its own new
 *  process: nothing else moves) and then execs node. */
function cliInCgroup(procs: string, args: string[], cwd: string, marks: string) {
  const enter = 'import os, sys; open(sys.argv[1], "w").write(str(os.getpid())); os.execv(sys.argv[2], sys.argv[2:])';
  const r = spawnSync(PYTHON, ['-c', enter, procs, process.execPath, CLI, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON, PR_MARKS: marks },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error };
}

function starts(marks: string): Array<[string, number]> {
  return fs.readFileSync(path.join(marks, 'starts'), 'utf8').trim().split('\n').map((l) => {
    const [name, pid] = l.split(' ');
    return [name, Number(pid)];
  });
}

describe('memory gate (--memfree): real tasks in a memory-limited cgroup', function () {
  this.timeout(300_000);

  const title = { cold: 'the youngest task is killed', warm: '--warm (no task pid known): the youngest task\'s host is stopped, it ends its task', call: '--call: the youngest task\'s warm worker is killed and replaced' };
  for (const mode of ['cold', 'warm', 'call'] as const) {
    it(`${title[mode]}, run again alone, and every file succeeds exactly once in the journal`, async function () {
      const cg = memoryCgroupBelowOurs(640 * MiB, `memgate-${mode}`);
      if (typeof cg === 'string') {
        console.log(`      skipped: ${cg}`);
        return this.skip();
      }
      try {
        const dir = tmpDir('pr-memgate-');
        const marks = path.join(dir, 'marks');
        fs.mkdirSync(marks);
        writeFiles(dir, { 'data/a.txt': 'a', 'data/b.txt': 'b', 'hog.py': HOG });
        const command = { cold: ['--', PYTHON, 'hog.py', '{}'], warm: ['--warm', '--script', 'hog.py'], call: ['--script', 'hog.py', '--call', 'hog'] }[mode];
        const r = cliInCgroup(cg.procs, ['run', '-j', '2', '--memfree', '450M', '--quiet', '--out', 'run', '--files', 'data/*.txt', ...command], dir, marks);
        assert.strictEqual(r.code, 0, `${r.error ?? ''}\n${r.stderr}`);
        // a.txt started first; b.txt, the youngest, ran twice: killed for memory, then alone
        const s = starts(marks);
        assert.deepStrictEqual(s.map(([n]) => n).sort(), ['a.txt', 'b.txt', 'b.txt'], JSON.stringify(s));
        const lines = journalLines(path.join(dir, 'run'));
        assert.deepStrictEqual(lines.map((l) => [path.basename(l.file), l.status, l.attempts]).sort(), [['a.txt', 'succeeded', 1], ['b.txt', 'succeeded', 1]]);
        const report = JSON.parse(fs.readFileSync(path.join(dir, 'run', 'report.json'), 'utf8'));
        assert.deepStrictEqual([report.counts.succeeded, report.counts.failed], [2, 0]);
        assert.match(report.notes.join('\n'), /Memory: 1 task was killed when less than half of 450 MB was available \(--memfree\) and put back in the queue/);
        // the killed attempt's process is gone (with --call, the host that ran the call: a call cannot be
        // killed alone; the second ran in another)
        const [first, second] = s.filter(([n]) => n === 'b.txt').map(([, pid]) => pid);
        assert.notStrictEqual(first, second);
        assert.throws(() => process.kill(first, 0), 'the killed task is gone');
      } finally {
        cg.remove();
      }
    });
  }
});
