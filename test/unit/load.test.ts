/**
 * The load detector (core/load.ts) on recorded /proc snapshots (test/fixtures/load/README.md): a
 * measuring process whose tree is busy, a child that ended and was waited for between the readings,
 * and a CPU burner outside the tree on a machine other people were using too.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { LoadWatch, othersCores, readLoad, summariseLoad, treeTicks, type LoadReading } from '../../extension/core/load';
import { parseProcPidStat } from '../../extension/core/procfs';
import { busySentence, loadText } from '../../extension/shared/figures';

const fixtures = path.resolve(__dirname, '../../../test/fixtures/load');
const meta = JSON.parse(fs.readFileSync(path.join(fixtures, 'meta.json'), 'utf8')) as { pid: number; t0: number; t1: number; burner: number };
const stat = (snap: string, pid: number) => parseProcPidStat(fs.readFileSync(path.join(fixtures, snap, 'proc', String(pid), 'stat'), 'latin1'));

describe('load detector (CPU used by processes outside the measurement)', () => {
  const r0 = readLoad({ root: path.join(fixtures, 't0'), pid: meta.pid, t: meta.t0 })!;
  const r1 = readLoad({ root: path.join(fixtures, 't1'), pid: meta.pid, t: meta.t1 })!;

  it('adds up the tree: the root, its children and grandchildren, and children it already waited for', () => {
    // by hand from the stat files: utime+stime+cutime+cstime of 14474, 14524, 14537
    const own = (snap: string) => [14474, 14524, 14537].reduce((s, p) => { const st = stat(snap, p); return s + st.ticks + st.childTicks; }, 0);
    assert.strictEqual(r0.treeTicks, own('t0'));
    assert.strictEqual(r1.treeTicks, own('t1'));
    // the short child ran and was reaped between the snapshots: its time shows only as the root's cutime
    assert.ok(stat('t1', meta.pid).childTicks > stat('t0', meta.pid).childTicks, 'the reaped child is in the root\'s cutime');
    // the burner double-forked away (parent 1): not ours
    assert.strictEqual(stat('t0', meta.burner).ppid, 1);
    const withBurner = treeTicks([stat('t1', meta.pid), stat('t1', 14524), stat('t1', 14537), stat('t1', meta.burner)], meta.pid);
    assert.strictEqual(withBurner, r1.treeTicks, 'a process outside the tree never counts as ours');
    assert.strictEqual(r0.cores, 2);
  });

  it('reports the cores used by others: machine busy ticks minus the tree\'s, over wall time', () => {
    const sec = (meta.t1 - meta.t0) / 1000;
    const expected = ((r1.machineTicks - r0.machineTicks) - (r1.treeTicks - r0.treeTicks)) / 100 / sec;
    assert.ok(Math.abs(othersCores(r0, r1) - expected) < 1e-9);
    // at least the burner's own time is "others"
    const burner = (stat('t1', meta.burner).ticks - stat('t0', meta.burner).ticks) / 100 / sec;
    assert.ok(othersCores(r0, r1) >= burner, `others ${othersCores(r0, r1)} ≥ the burner's ${burner}`);
    const s = summariseLoad(null, [r0, r1])!;
    assert.strictEqual(s.busy, true);
    assert.strictEqual(s.othersCores, Math.round(expected * 100) / 100);
    assert.match(busySentence(s)!, /^the machine was busy: \d\.\d cores used by other processes; these numbers are pessimistic$/);
  });

  it('calls a quiet machine quiet, and never reports negative load', () => {
    const at = (t: number, machine: number, tree: number): LoadReading => ({ t, machineTicks: machine, treeTicks: tree, cores: 2 });
    // the tree used 2 cores for 1 s, the machine 2.05: 0.05 cores of others, below a fifth of a core
    const quiet = summariseLoad([at(0, 0, 0), at(1000, 3, 0)], [at(1000, 3, 0), at(2000, 208, 200)])!;
    assert.strictEqual(quiet.busy, false);
    assert.strictEqual(quiet.othersCores, 0.05);
    assert.strictEqual(quiet.beforeCores, 0.03);
    assert.strictEqual(busySentence(quiet), undefined);
    assert.strictEqual(loadText(quiet), 'quiet (0.1 cores used by other processes)');
    // per-process accounting can run a tick ahead of /proc/stat: clamp, never "−0.01 cores"
    assert.strictEqual(othersCores(at(0, 100, 0), at(1000, 199, 100)), 0);
    // busy before but not during: the measurement itself was clean
    const cleared = summariseLoad([at(0, 0, 0), at(1000, 100, 0)], [at(1000, 100, 0), at(3000, 500, 400)])!;
    assert.deepStrictEqual([cleared.busy, cleared.beforeCores, cleared.duringCores, cleared.peakCores], [false, 1, 0, 1]);
    assert.strictEqual(summariseLoad(null, [at(0, 0, 0)]), undefined, 'no interval, no claim');
  });

  it('samples this machine for real (before and during) and stops cleanly', async function () {
    if (process.platform !== 'linux') this.skip();
    const w = await LoadWatch.start({ beforeMs: 200, intervalMs: 100 });
    await new Promise((r) => setTimeout(r, 350));
    const s = w.stop()!;
    // the window before, then at least the interval from start to stop (a loaded machine delays the timer)
    assert.ok(s.samples >= 2, `samples ${s.samples}`);
    assert.ok(s.beforeCores !== null && s.duringCores !== null, JSON.stringify(s));
    assert.ok(Number.isFinite(s.othersCores) && s.othersCores >= 0, `others ${s.othersCores}`);
    assert.strictEqual(s.busy, s.othersCores > 0.2);
    assert.strictEqual(w.stop(), s, 'stop is idempotent');
  });
});
