/**
 * The sampler's cgroup parsing and sampling on recorded /proc and cgroup fixtures (test/fixtures/proc/;
 * the /proc parsers themselves: procfs.test.ts):
 *  - host: copied from this machine (cgroup v1/v2 hybrid, no limits);
 *  - v1-limited / v1-unlimited / v2-limited / v2-unlimited / slurm-v2: crafted trees in the exact
 *    layouts Docker, systemd and Slurm produce;
 *  - ticks/: /proc/stat one second apart while two busy loops ran on this 2-core machine.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  AvailableMemory,
  Sampler, describeLimits, formatCpuList, locateCgroup, parseCfsQuota, parseCpuList, parseCpuMax,
  parseFlatKeyed, parseMemoryLimit, parseMountinfo, parseProcCgroup,
} from '../../extension/core/monitor';
import { parseMeminfo } from '../../extension/core/procfs';

const fixtures = path.resolve(__dirname, '../../../test/fixtures/proc');
const read = (rel: string): string => fs.readFileSync(path.join(fixtures, rel), 'utf8');
const GiB = 2 ** 30;

describe('monitor: cgroup parsing', () => {
  it('parses /proc/self/cgroup and the cgroup mounts of mountinfo (recorded hybrid host)', () => {
    const members = parseProcCgroup(read('host/proc/self/cgroup'));
    assert.deepStrictEqual(members.find((m) => m.controllers.includes('memory')), {
      id: 4, controllers: ['memory'], path: '/process_api/2d2977ef26f5705957262acebf10fd00',
    });
    assert.deepStrictEqual(members.find((m) => m.id === 0), { id: 0, controllers: [], path: '/' });
    const mounts = parseMountinfo(read('host/proc/self/mountinfo'));
    assert.deepStrictEqual(mounts.find((m) => m.version === 2), { root: '/', mountPoint: '/sys/fs/cgroup/unified', version: 2, controllers: [] });
    assert.deepStrictEqual(mounts.find((m) => m.controllers.includes('memory')), { root: '/', mountPoint: '/sys/fs/cgroup/memory', version: 1, controllers: ['memory'] });
    assert.ok(!mounts.some((m) => m.mountPoint === '/sys/fs/cgroup'), 'the tmpfs holding the hierarchies is not a cgroup mount');
  });

  it('locates the controllers: v1 beats the controller-less unified mount; container roots map to the mount', () => {
    const host = locateCgroup(read('host/proc/self/cgroup'), read('host/proc/self/mountinfo'))!;
    assert.deepStrictEqual(host.memory, { version: 1, dir: '/sys/fs/cgroup/memory/process_api/2d2977ef26f5705957262acebf10fd00', mountPoint: '/sys/fs/cgroup/memory' });
    assert.deepStrictEqual(host.cpu, { version: 1, dir: '/sys/fs/cgroup/cpu', mountPoint: '/sys/fs/cgroup/cpu' });
    const docker = locateCgroup(read('v1-limited/proc/self/cgroup'), read('v1-limited/proc/self/mountinfo'))!;
    assert.strictEqual(docker.memory!.dir, '/sys/fs/cgroup/memory');
    assert.strictEqual(docker.cpu!.dir, '/sys/fs/cgroup/cpu,cpuacct');
    assert.strictEqual(docker.path, '/docker/4f1c0b2e9a');
    const v2 = locateCgroup(read('slurm-v2/proc/self/cgroup'), read('slurm-v2/proc/self/mountinfo'))!;
    assert.deepStrictEqual(v2.memory, { version: 2, dir: '/sys/fs/cgroup/system.slice/slurmstepd.scope/job_42/step_batch/user/task_0', mountPoint: '/sys/fs/cgroup' });
    assert.strictEqual(locateCgroup('', ''), undefined);
  });

  it('parses limit files: cpu.max, cfs quota, memory limits, cpu lists, flat keyed files', () => {
    assert.strictEqual(parseCpuMax('max 100000\n'), undefined);
    assert.strictEqual(parseCpuMax('150000 100000\n'), 1.5);
    assert.strictEqual(parseCfsQuota('-1\n', '100000\n'), undefined);
    assert.strictEqual(parseCfsQuota('200000\n', '50000\n'), 4);
    assert.strictEqual(parseMemoryLimit('max\n'), undefined);
    assert.strictEqual(parseMemoryLimit('9223372036854771712\n'), undefined, 'v1 spells unlimited as ~2^63');
    assert.strictEqual(parseMemoryLimit('4294967296\n'), 4 * GiB);
    assert.deepStrictEqual(parseCpuList('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
    assert.strictEqual(formatCpuList([0, 1, 2, 3, 8, 10, 11]), '0-3,8,10-11');
    assert.strictEqual(parseFlatKeyed(read('v2-limited/sys/fs/cgroup/cpu.stat')).get('usage_usec'), 123456789);
  });
});

/** A sampler reading a fixture tree; `files` are written over a temporary copy first. */
function fixtureSampler(name: string, now: () => number = () => 1000): { sampler: Sampler; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pr-monitor-${name}-`));
  fs.cpSync(path.join(fixtures, name), dir, { recursive: true });
  return { sampler: new Sampler({ root: dir, platform: 'linux', now }), dir };
}

describe('monitor: AvailableMemory (for --memfree)', () => {
  it('the machine\'s MemAvailable, capped by a cgroup memory limit minus the cgroup\'s use', () => {
    const host = parseMeminfo(read('host/proc/meminfo'));
    assert.strictEqual(new AvailableMemory(path.join(fixtures, 'host'), true).bytes(), host.availableBytes);
    // v2-limited: memory.max 2 GiB, 768 MiB used (1 GiB charged - 256 MiB inactive file cache), host has ~28 GiB available
    assert.strictEqual(new AvailableMemory(path.join(fixtures, 'v2-limited'), true).bytes(), 2 * GiB - 768 * 2 ** 20);
    // v1 (Docker): 4 GiB limit, 1 GiB used
    assert.strictEqual(new AvailableMemory(path.join(fixtures, 'v1-limited'), true).bytes(), 3 * GiB);
    // no /proc (another platform, or an unreadable root): the os module's figure
    assert.strictEqual(typeof new AvailableMemory(path.join(fixtures, 'nothing-here'), true).bytes(), 'number');
  });
});

describe('monitor: Sampler on fixture trees', () => {
  const cleanup: Array<() => void> = [];
  afterEach(() => cleanup.splice(0).forEach((f) => f()));
  function make(name: string, now?: () => number): { sampler: Sampler; dir: string } {
    const made = fixtureSampler(name, now);
    cleanup.push(() => {
      made.sampler.dispose();
      fs.rmSync(made.dir, { recursive: true, force: true });
    });
    return made;
  }

  it('recorded host: no limits, machine-wide memory, per-core percentages from tick deltas', () => {
    const { sampler, dir } = make('host');
    fs.copyFileSync(path.join(fixtures, 'ticks/stat-busy-a'), path.join(dir, 'proc/stat'));
    sampler.sample();
    fs.copyFileSync(path.join(fixtures, 'ticks/stat-busy-b'), path.join(dir, 'proc/stat'));
    const s = sampler.sample();
    assert.strictEqual(s.limits, undefined);
    assert.ok(s.cpu.total >= 90 && s.cpu.hostTotal === s.cpu.total);
    assert.strictEqual(s.cpu.cores.length, 2);
    assert.strictEqual(s.cpu.capacityCores, 2);
    const mem = parseMeminfo(read('host/proc/meminfo'));
    assert.strictEqual(s.memory.totalBytes, mem.totalBytes);
    assert.strictEqual(s.memory.usedBytes, mem.totalBytes - mem.availableBytes);
    assert.strictEqual(s.load!.length, 3);
    assert.strictEqual(sampler.history().length, 2);
  });

  it('v1 limited (Docker): CPU quota 1.5 cores, memory 4 GiB, usage net of inactive page cache', () => {
    const { sampler } = make('v1-limited');
    const s = sampler.sample();
    assert.deepStrictEqual(s.limits, {
      version: 1, path: '/docker/4f1c0b2e9a', cpuQuotaCores: 1.5, cpuset: undefined, memoryBytes: 4 * GiB,
      sources: ['cpu.cfs_quota_us', 'memory.limit_in_bytes'],
    });
    assert.strictEqual(s.cpu.capacityCores, 1.5);
    assert.strictEqual(s.memory.totalBytes, 4 * GiB);
    assert.strictEqual(s.memory.usedBytes, 1 * GiB); // 1.5 GiB charged - 0.5 GiB inactive file cache
    assert.strictEqual(s.memory.percent, 25);
    assert.strictEqual(s.memory.hostTotalBytes, 16384000 * 1024);
    const note = describeLimits(s.limits, 4, s.memory.hostTotalBytes)!;
    assert.match(note, /^Limited by cgroup v1 \/docker\/4f1c0b2e9a \(cpu\.cfs_quota_us, memory\.limit_in_bytes\): CPU 1\.5 of 4 cores, memory 4\.0 of 16 GB\./);
  });

  it('v1 unlimited and v2 unlimited: no limits, no note', () => {
    for (const name of ['v1-unlimited', 'v2-unlimited']) {
      const s = make(name).sampler.sample();
      assert.strictEqual(s.limits, undefined, name);
      assert.strictEqual(describeLimits(s.limits, 4, 1), undefined);
      assert.strictEqual(s.memory.totalBytes, s.memory.hostTotalBytes, name);
    }
  });

  it('v2 limited (container): cpu.max 2 cores, memory.max 2 GiB; CPU % is of the quota', () => {
    let t = 0;
    const { sampler, dir } = make('v2-limited', () => t);
    const first = sampler.sample();
    assert.deepStrictEqual(first.limits, {
      version: 2, path: '/', cpuQuotaCores: 2, cpuset: undefined, memoryBytes: 2 * GiB, sources: ['cpu.max', 'memory.max'],
    });
    assert.strictEqual(first.memory.usedBytes, 768 * 2 ** 20);
    assert.strictEqual(first.memory.percent, 37.5);
    // one second later the cgroup has used one more CPU-second: half of its 2-core quota
    t = 1000;
    fs.writeFileSync(path.join(dir, 'sys/fs/cgroup/cpu.stat'), `usage_usec ${123456789 + 1_000_000}\n`);
    const s = sampler.sample();
    assert.strictEqual(s.cpu.capacityCores, 2);
    assert.strictEqual(Math.round(s.cpu.total), 50);
  });

  it('Slurm on v2: the job-level memory.max and the task cpuset apply; cores are the allocated ones', () => {
    const s = make('slurm-v2').sampler.sample();
    assert.deepStrictEqual(s.limits, {
      version: 2, path: '/system.slice/slurmstepd.scope/job_42/step_batch/user/task_0', cpuQuotaCores: undefined,
      cpuset: [2, 3], memoryBytes: 8 * GiB, sources: ['cpuset.cpus.effective', 'memory.max'],
    });
    assert.deepStrictEqual(s.cpu.coreIds, [2, 3]);
    assert.strictEqual(s.cpu.cores.length, 2);
    assert.strictEqual(s.cpu.capacityCores, 2);
    assert.strictEqual(s.memory.usedBytes, 2 * GiB);
    assert.strictEqual(s.memory.percent, 25);
    assert.match(describeLimits(s.limits, 8, s.memory.hostTotalBytes)!, /cores 2-3 \(2 of 8\), memory 8\.0 of 31 GB/);
  });

  it('falls back to the os module off Linux', () => {
    const sampler = new Sampler({ platform: 'darwin' });
    cleanup.push(() => sampler.dispose());
    const s = sampler.sample();
    assert.strictEqual(s.cpu.cores.length, os.cpus().length);
    assert.strictEqual(s.memory.totalBytes, os.totalmem());
    assert.strictEqual(s.limits, undefined);
  });

  it('keeps only the history window', () => {
    let t = 0;
    const sampler = new Sampler({ historyMs: 5000, now: () => t });
    cleanup.push(() => sampler.dispose());
    for (t = 0; t <= 10_000; t += 1000) sampler.sample();
    const h = sampler.history();
    assert.deepStrictEqual(h.map((p) => p.t), [5000, 6000, 7000, 8000, 9000, 10000]);
  });
});
