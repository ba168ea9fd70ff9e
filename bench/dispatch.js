// Dispatch overhead: 2,000 trivial tasks (`true {}`) on 2 workers, parallel-run (CLI, with
// journal and per-task logs on) vs `xargs -P 2` and GNU `parallel -j 2`. Prints throughput and ratios.
// Aim: >= 1.0x xargs throughput, >= 4x GNU Parallel.
'use strict';
const fs = require('fs');
const path = require('path');
const { CLI, PYTHON, ROOT, tmp, makeInputs, time, best, have, loadNote } = require('./lib/engineBench');

const N = Number(process.env.BENCH_TASKS || 2000);
const REPEATS = Number(process.env.BENCH_REPEATS || 2);

// Where parallel-run's time goes: its two exec hosts (media/python/warm_host.py), each fed half the
// requests at once by a plain Python driver, with the same per-task log files, and no Node runner
// (no workers, journal, events or report). What is left of parallel-run's time is the runner's.
const HOSTS_ONLY = `
import os, subprocess, sys, threading
host, listfile, logdir, true = sys.argv[1:5]
files = [f for f in open(listfile, "rb").read().split(b"\\n") if f]
def slot(s):
    p = subprocess.Popen([sys.executable, "-S", host, "exec"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    p.stdout.readline()
    mine = range(s, len(files), 2)
    reqs = b"".join(b"=\\0=.\\0=%s/%d.out\\0=%s/%d.err\\0=%s\\0=0\\0=true\\0=%s\\0\\0" % (logdir.encode(), i, logdir.encode(), i, true.encode(), files[i]) for i in mine)
    p.stdin.write(reqs); p.stdin.flush()
    for _ in mine:
        if p.stdout.readline().split()[2] != b"0":
            failed.append(s)
    p.stdin.close(); p.wait()
failed = []
ts = [threading.Thread(target=slot, args=(s,)) for s in (0, 1)]
for t in ts: t.start()
for t in ts: t.join()
sys.exit(1 if failed else 0)
`;

(async () => {
  const dir = tmp('pr-bench-dispatch-');
  const list = makeInputs(dir, N);
  const rows = [];
  let k = 0;
  const pr = await best(REPEATS, () => time([process.execPath, CLI, 'run', '-j', '2', '--quiet', '--files-from', list, '--out', path.join(dir, `run${k++}`), '--', 'true', '{}'], { cwd: dir }));
  if (pr.code !== 0) throw new Error(`parallel-run failed: ${pr.stderr}`);
  rows.push(['parallel-run', pr.ms, pr.cpuSec]);
  const xa = await best(REPEATS, () => time(['xargs', '-d', '\n', '-P', '2', '-n', '1', 'true'], { cwd: dir, stdinFile: list }));
  rows.push(['xargs -P 2', xa.ms, xa.cpuSec]);
  const host = path.join(ROOT, 'media', 'python', 'warm_host.py');
  // the program's path, as the runner resolves it once per run (`command -v true` names the shell builtin)
  const trueBin = (process.env.PATH || '').split(':').map((d) => path.join(d, 'true')).find((f) => fs.existsSync(f));
  const ho = await best(REPEATS, (i) => {
    const logs = path.join(dir, `hosts${i}`);
    fs.mkdirSync(logs);
    return time([PYTHON, '-c', HOSTS_ONLY, host, list, logs, trueBin], { cwd: dir });
  });
  if (ho.code !== 0) throw new Error(`hosts-only reference failed: ${ho.stderr}`);
  rows.push(['its 2 hosts only', ho.ms, ho.cpuSec]);
  // The floor under any Node runner on this machine: starting Node itself (nothing loaded), and how much
  // of that is NODE_EXTRA_CA_CERTS (Node parses the whole CA bundle at start when it is set).
  const nodeStart = await best(5, () => time([process.execPath, '-e', '0'], { cwd: dir }));
  let nodeNoCa;
  if (process.env.NODE_EXTRA_CA_CERTS) {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    nodeNoCa = await best(5, () => time([process.execPath, '-e', '0'], { cwd: dir, env }));
  }
  let gp;
  if (have('parallel')) {
    gp = await best(1, () => time(['parallel', '--will-cite', '-j', '2', 'true', '{}', '::::', list], { cwd: dir }));
    rows.push(['parallel -j 2', gp.ms, gp.cpuSec]);
  }
  console.log(`dispatch: ${N} x "true {}", 2 workers (best of ${REPEATS}; GNU Parallel once; ${loadNote()})`);
  for (const [name, ms, cpu] of rows) console.log(`  ${name.padEnd(16)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${(N / (ms / 1000)).toFixed(0).padStart(6)} tasks/s  CPU ${cpu.toFixed(2)} s (${((1000 * cpu) / N).toFixed(2)} ms/task)`);
  const vsX = xa.ms / pr.ms;
  console.log(`  parallel-run vs xargs:    ${vsX.toFixed(2)}x throughput (aim >= 1.0x)`);
  if (gp) console.log(`  parallel-run vs parallel: ${(gp.ms / pr.ms).toFixed(2)}x throughput (aim >= 4x)`);
  console.log(`  its 2 hosts only vs xargs: ${(xa.ms / ho.ms).toFixed(2)}x throughput; the Node runner (start-up, workers, journal, events) adds ${((pr.ms - ho.ms) / 1000).toFixed(2)} s (${((pr.ms - ho.ms) / N).toFixed(2)} ms/task)`);
  const ceiling = xa.ms / (ho.ms + nodeStart.ms);
  console.log(`  node -e 0 (start-up alone): ${(nodeStart.ms / 1000).toFixed(3)} s${nodeNoCa ? ` (${(nodeNoCa.ms / 1000).toFixed(3)} s without NODE_EXTRA_CA_CERTS, which is set here)` : ''}; the hosts plus a bare Node start would be ${ceiling.toFixed(2)}x xargs: the most any Node runner could reach here`);
  console.log(`  CPU per task vs xargs:    ${(xa.cpuSec / pr.cpuSec).toFixed(2)}x less${gp ? `; vs parallel ${(gp.cpuSec / pr.cpuSec).toFixed(2)}x less` : ''}`);
  if (process.env.BENCH_JSON) console.log(JSON.stringify({ bench: 'dispatch', tasks: N, parallelRunMs: pr.ms, xargsMs: xa.ms, hostsOnlyMs: ho.ms, nodeStartMs: nodeStart.ms, gnuParallelMs: gp && gp.ms }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
