// Runner memory with a lot of task output: 4 files whose tasks print 50 MB each (200 MB in all), -j 2,
// output passed through (to a pipe this bench drains), -k, and --quiet. Tasks write straight into their
// log files and the CLI copies a log to the terminal as a stream, so the runner's peak RSS should not
// grow with the output: printed next to a run whose tasks print nothing (the floor).
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const { CLI, PYTHON, tmp, makeInputs, loadNote, hwmKb } = require('./lib/engineBench');

const MB = Number(process.env.BENCH_MB_PER_TASK || 50);


function run(dir, list, extra, mb) {
  return new Promise((resolve, reject) => {
    const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const script = `import sys\nchunk = "y" * 1048575 + "\\n"\nfor _ in range(${mb}): sys.stdout.write(chunk)\n`;
    const child = spawn(process.execPath, [CLI, 'run', '-j', '2', '--files-from', list, '--out', out, ...extra, '--', PYTHON, '-c', script, '{}'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
    let peak = 0;
    let printed = 0;
    child.stdout.on('data', (d) => (printed += d.length));
    const poll = setInterval(() => (peak = Math.max(peak, hwmKb(child.pid))), 50);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(poll);
      peak = Math.max(peak, hwmKb(child.pid));
      fs.rmSync(out, { recursive: true, force: true });
      if (code !== 0) return reject(new Error(`exit ${code}`));
      resolve({ peakMb: peak / 1024, printedMb: printed / 2 ** 20 });
    });
  });
}

(async () => {
  const dir = tmp('pr-bench-outmem-');
  const list = makeInputs(dir, 4);
  console.log(`runner memory with task output: 4 files x ${MB} MB of stdout (${4 * MB} MB), -j 2; ${loadNote()}`);
  const floor = await run(dir, list, ['--quiet'], 0);
  for (const [name, extra] of [['passed through', []], ['passed through, -k', ['-k']], ['--quiet', ['--quiet']]]) {
    const r = await run(dir, list, extra, MB);
    console.log(`  ${name.padEnd(20)} runner peak RSS ${r.peakMb.toFixed(0)} MB (${(r.peakMb / floor.peakMb).toFixed(2)}x the ${floor.peakMb.toFixed(0)} MB of a run printing nothing), ${r.printedMb.toFixed(0)} MB printed`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
