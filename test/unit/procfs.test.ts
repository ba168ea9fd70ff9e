/**
 * The one /proc parser (core/procfs.ts) on recorded fixtures (test/fixtures/proc/) and on live
 * processes: /proc/stat, meminfo, loadavg, /proc/<pid>/stat (a command name may hold spaces and
 * parentheses: fields are read after the last ')') and /proc/<pid>/status.
 */
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cpuPercent, parseLoadavg, parseMeminfo, parseProcPidStat, parseProcPidStatus, parseProcStat, readPidStat, readPidStatus } from '../../extension/core/procfs';

const fixtures = path.resolve(__dirname, '../../../test/fixtures/proc');
const read = (rel: string): string => fs.readFileSync(path.join(fixtures, rel), 'utf8');

describe('procfs: /proc parsing', () => {
  it('parses the cpu lines of a recorded /proc/stat', () => {
    const stat = parseProcStat(read('host/proc/stat'));
    assert.strictEqual(stat.cores.length, 2);
    assert.deepStrictEqual(stat.ids, [0, 1]);
    // user + nice + system + irq + softirq + steal of the recorded `cpu` line
    const [user, nice, system, idle, iowait, irq, softirq, steal] = read('host/proc/stat').split('\n')[0].split(/\s+/).slice(1).map(Number);
    assert.deepStrictEqual(stat.total, { busy: user + nice + system + irq + softirq + steal, idle: idle + iowait });
    assert.throws(() => parseProcStat('intr 1 2 3\n'), /no "cpu " line/);
  });

  it('computes percentages from tick deltas', () => {
    assert.strictEqual(cpuPercent({ busy: 100, idle: 300 }, { busy: 150, idle: 350 }), 50);
    assert.strictEqual(cpuPercent({ busy: 100, idle: 300 }, { busy: 100, idle: 400 }), 0);
    assert.strictEqual(cpuPercent({ busy: 100, idle: 300 }, { busy: 180, idle: 300 }), 100);
    assert.strictEqual(cpuPercent({ busy: 5, idle: 5 }, { busy: 5, idle: 5 }), 0, 'no time passed');
    assert.strictEqual(cpuPercent({ busy: 500, idle: 500 }, { busy: 10, idle: 900 }), 0, 'counter reset (hotplug)');
    // recorded: two busy loops on both cores for one second
    const a = parseProcStat(read('ticks/stat-busy-a'));
    const b = parseProcStat(read('ticks/stat-busy-b'));
    assert.ok(cpuPercent(a.total, b.total) >= 90, `total ${cpuPercent(a.total, b.total)}`);
    for (let i = 0; i < 2; i++) assert.ok(cpuPercent(a.cores[i], b.cores[i]) >= 90);
  });

  it('parses /proc/meminfo and /proc/loadavg', () => {
    const mem = parseMeminfo(read('host/proc/meminfo'));
    assert.strictEqual(mem.totalBytes, 24683620 * 1024);
    assert.ok(mem.availableBytes > 0 && mem.availableBytes <= mem.totalBytes);
    assert.strictEqual(mem.swapTotalBytes, 0);
    const crafted = parseMeminfo(read('v1-limited/proc/meminfo'));
    assert.strictEqual(crafted.swapTotalBytes - crafted.swapFreeBytes, (2097148 - 1048574) * 1024);
    // kernels before 3.14 have no MemAvailable: estimated from free + buffers + cached
    assert.strictEqual(parseMeminfo('MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 5 kB\nCached: 20 kB\n').availableBytes, 35 * 1024);
    assert.throws(() => parseMeminfo('nonsense'), /MemTotal/);
    assert.deepStrictEqual(parseLoadavg(read('v1-limited/proc/loadavg')), [3.1, 2.05, 1.5]);
    assert.strictEqual(parseLoadavg(read('host/proc/loadavg')).length, 3);
  });

  it('parses /proc/<pid>/stat, even with spaces and parentheses in the command name', () => {
    const weird = parseProcPidStat(read('pid/weird.stat'));
    assert.deepStrictEqual(weird, {
      pid: 4242, comm: 'my (weird) proc', state: 'R', ppid: 4000, pgid: 4242, ticks: 300, childTicks: 10,
      userTicks: 257, sysTicks: 53, threads: 3, startTicks: 12345, rssPages: 2560,
    });
    const node = parseProcPidStat(read('pid/busy-node.stat'));
    assert.strictEqual(node.comm, 'node');
    assert.strictEqual(node.state, 'R');
    assert.ok(node.ticks > 0);
  });

  it('parses /proc/<pid>/status', () => {
    const st = parseProcPidStatus(read('pid/busy-node.status'));
    assert.strictEqual(st.name, 'node');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(read('pid/busy-node.status'))![1]);
    assert.strictEqual(st.rssBytes, kb * 1024);
    assert.ok(st.threads >= 1 && st.ppid > 0);
    assert.strictEqual(st.hwmKb, Number(/VmHWM:\s+(\d+)/.exec(read('pid/busy-node.status'))![1]), 'VmHWM: the peak, kB');
    assert.ok(st.hwmKb! * 1024 >= st.rssBytes, 'the peak is at least the current RSS');
    const kthread = parseProcPidStatus('Name:\tkthreadd\nPPid:\t0\n');
    assert.strictEqual(kthread.rssBytes, 0, 'kernel threads have no VmRSS');
    assert.strictEqual(kthread.hwmKb, undefined, '...and no VmHWM');
  });

  it('reads every field after the last ")": a command name holding ") R 1 2 (" or ")" alone changes nothing', () => {
    const fields = 'S 77 4242 4242 0 -1 4194560 10 0 0 0 11 22 33 44 20 0 1 0 999 1000 5 18446744073709551615';
    for (const comm of [') R 1 2 (', ')', '(', 'a b  c', ')) ((', 'x) S 1 1 1 1 1']) {
      const st = parseProcPidStat(`4242 (${comm}) ${fields}\n`);
      assert.deepStrictEqual(
        { pid: st.pid, comm: st.comm, state: st.state, ppid: st.ppid, pgid: st.pgid, userTicks: st.userTicks, sysTicks: st.sysTicks, ticks: st.ticks, childTicks: st.childTicks, startTicks: st.startTicks, rssPages: st.rssPages },
        { pid: 4242, comm, state: 'S', ppid: 77, pgid: 4242, userTicks: 11 + 33, sysTicks: 22 + 44, ticks: 33, childTicks: 77, startTicks: 999, rssPages: 5 },
        JSON.stringify(comm),
      );
    }
    assert.throws(() => parseProcPidStat('garbage'), /not a \/proc\/<pid>\/stat text/);
  });

  it('reads a live process: this one, a child whose name holds spaces and parentheses, and none for a pid that is gone', () => {
    const me = readPidStat(process.pid)!;
    assert.strictEqual(me.pid, process.pid);
    assert.strictEqual(me.ppid, process.ppid);
    assert.ok(me.startTicks > 0 && me.userTicks > 0, `start ${me.startTicks}, user ${me.userTicks}`);
    assert.ok(readPidStatus(process.pid)!.hwmKb! > 1000, 'a Node process peaks above 1 MB');
    // comm is the executable's name (15 bytes at most): a symlink named with spaces and parentheses
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-procfs-'));
    const weird = path.join(dir, 'a) b (c');
    fs.symlinkSync('/bin/sleep', weird);
    const kid = spawn(weird, ['5'], { stdio: 'ignore' });
    try {
      let st = readPidStat(kid.pid!);
      for (let i = 0; i < 200 && st?.comm !== 'a) b (c'; i++) st = readPidStat(kid.pid!); // exec may not have happened yet
      assert.strictEqual(st?.comm, 'a) b (c');
      assert.strictEqual(st.ppid, process.pid);
      assert.strictEqual(st.pid, kid.pid);
    } finally {
      kid.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.strictEqual(readPidStat(2 ** 22 + 1), undefined, 'above pid_max: no such process');
  });
});
