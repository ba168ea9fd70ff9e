// Resource monitor cost: the sampler's own CPU time at a 1 s interval, each contender in its own
// child process that runs only that, measured with process.cpuUsage() (plus the CPU of any children
// it spawned and waited for, from /proc/self/stat cutime+cstime). All contenders run side by side
// for the same wall time. Aim: < 0.2 % of one core for the sampler.
//
//   node bench/monitorCost.js [--seconds 60] [--interval 1000]
//
// Contenders:
//   node-idle       a Node process with an empty 1 s timer: the floor any in-process monitor pays
//   sampler         Parallel Run's Sampler (status bar case: /proc/stat, meminfo, loadavg, cgroup)
//   sampler+run     the same while watching a run's 2 processes (process tree scan each tick)
//   spawn-ps        what naive monitors do: spawn `ps -eo pid,pcpu,rss` every tick
//   spawn-top       `top -bn1` every tick (as some status bar monitors do)
// Needs the tsc build (out/): npx tsc -p .
'use strict';
const { spawn, execFile } = require('child_process');
const fs = require('fs');
const path = require('path');

const argv = process.argv.slice(2);
const arg = (name, dflt) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const seconds = arg('--seconds', 60);
const intervalMs = arg('--interval', 1000);

/** CPU time (ms) of children this process has waited for, from /proc/self/stat (ticks of 10 ms). */
function childCpuMs() {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) * 10; // cutime + cstime
  } catch {
    return 0;
  }
}

function runChild(kind) {
  let tick;
  let cleanup = () => {};
  if (kind === 'node-idle') {
    tick = () => {};
  } else if (kind === 'sampler' || kind === 'sampler+run') {
    const { Sampler } = require('../out/extension/core/monitor');
    const sampler = new Sampler({ intervalMs });
    if (kind === 'sampler+run') {
      // two sleeping processes stand in for a run's workers: the cost is the tree scan, not their CPU
      const kids = [0, 1].map(() => spawn('sleep', [String(seconds + 30)], { stdio: 'ignore' }));
      sampler.watchProcesses(() => kids.map((k) => k.pid));
      cleanup = () => kids.forEach((k) => k.kill('SIGKILL'));
    }
    let count = 0;
    const off = sampler.subscribe(() => count++);
    tick = null; // the sampler has its own timer
    const prevCleanup = cleanup;
    cleanup = () => {
      off();
      prevCleanup();
      if (count === 0) throw new Error('the sampler never produced a sample');
    };
  } else if (kind === 'spawn-ps') {
    tick = () => execFile('ps', ['-eo', 'pid,pcpu,rss'], () => {});
  } else if (kind === 'spawn-top') {
    tick = () => execFile('top', ['-bn1'], () => {});
  } else {
    throw new Error(`unknown contender ${kind}`);
  }
  // measure after start-up (module loading is not the steady-state cost)
  setTimeout(() => {
    const cpu0 = process.cpuUsage();
    const child0 = childCpuMs();
    const t0 = process.hrtime.bigint();
    const timer = tick ? setInterval(tick, intervalMs) : undefined;
    setTimeout(() => {
      if (timer) clearInterval(timer);
      // let a last spawned child finish so its CPU is counted
      setTimeout(() => {
        const cpu = process.cpuUsage(cpu0);
        const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
        const ownMs = (cpu.user + cpu.system) / 1000;
        const kidsMs = childCpuMs() - child0;
        cleanup();
        process.stdout.write(JSON.stringify({ kind, wallMs, ownMs, kidsMs }) + '\n');
        process.exit(0);
      }, tick ? 300 : 0);
    }, seconds * 1000);
  }, 500);
}

function measure(kind) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--child', kind, '--seconds', String(seconds), '--interval', String(intervalMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${kind} exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

async function main() {
  if (argv.includes('--child')) return runChild(argv[argv.indexOf('--child') + 1]);
  if (!fs.existsSync(path.join(__dirname, '../out/extension/core/monitor.js'))) {
    console.error('bench/monitorCost.js needs the tsc build: run `npx tsc -p .` first.');
    process.exit(2);
  }
  const kinds = ['node-idle', 'sampler', 'sampler+run', 'spawn-ps', 'spawn-top'];
  console.log(`monitor cost: ${kinds.length} contenders side by side for ${seconds} s at ${intervalMs} ms (${require('os').cpus().length} cores)`);
  const results = await Promise.all(kinds.map(measure));
  const pct = (r) => (100 * (r.ownMs + r.kidsMs)) / r.wallMs;
  const sampler = results.find((r) => r.kind === 'sampler');
  const idle = results.find((r) => r.kind === 'node-idle');
  console.log(`${'contender'.padEnd(12)} ${'CPU ms'.padStart(9)} ${'% of 1 core'.padStart(12)} ${'vs sampler'.padStart(11)}`);
  for (const r of results) {
    const ratio = pct(r) / pct(sampler);
    console.log(`${r.kind.padEnd(12)} ${(r.ownMs + r.kidsMs).toFixed(1).padStart(9)} ${pct(r).toFixed(3).padStart(11)}% ${(r.kind === 'sampler' ? '1.0x' : `${ratio.toFixed(1)}x`).padStart(11)}`);
  }
  const net = pct(sampler) - pct(idle);
  console.log(`sampler: ${pct(sampler).toFixed(3)} % of one core (${net.toFixed(3)} % above an idle Node timer); aim < 0.2 %: ${pct(sampler) < 0.2 ? 'met' : 'NOT met'}`);
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'monitorCost.json'), JSON.stringify({ seconds, intervalMs, results: results.map((r) => ({ ...r, percentOfCore: pct(r) })) }, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
