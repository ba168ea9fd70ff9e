/**
 * --call FUNC through the real CLI and real Python: the same results.csv as cold and warm runs; a
 * raise is a failed task with the traceback in its log; a timeout or a crash of the interpreter
 * replaces the worker, and the tasks queued behind it in a batch still run (the journal has exactly
 * one line per tuple); a function that does not exist or cannot take the inputs is refused (exit 2).
 */
import * as assert from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { completionRecord, parseCompletion } from '../../extension/core/run/completions';
import { readCsv } from '../../extension/core/run/results';
import type { RunDefinition } from '../../extension/core/run/types';
import { CLI, journalLines, processesWithEnv, PYTHON, sleep, tmpDir, writeFiles } from './engineHelpers';

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 100_000, env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `parallel-run run --quiet --out o ARGS` in a fresh folder holding `files`; the run's directory is `o`. */
function runIn(files: Record<string, string>, args: string[]) {
  const dir = tmpDir('pr-call-');
  writeFiles(dir, files);
  const r = cli(['run', '--quiet', '--out', 'o', ...args], dir);
  assert.strictEqual(r.code, 1, r.stderr);
  return { dir, lines: journalLines(path.join(dir, 'o')) };
}

/** results.csv without the measures, rows sorted by their inputs */
function table(file: string): string[][] {
  const { columns, rows } = readCsv(fs.readFileSync(file, 'utf8'));
  const keep = columns.map((c, i) => (c === 'seconds' || c === 'max_rss_mb' ? -1 : i)).filter((i) => i >= 0);
  return [keep.map((i) => columns[i]), ...rows.map((r) => keep.map((i) => r[i])).sort((a, b) => a.join('\0').localeCompare(b.join('\0')))];
}

const SCRIPT = `import json, math, sys
from pathlib import Path

def loglike(file: Path, mu: float, n: int, fast: bool = True):
    assert isinstance(file, Path) and isinstance(mu, float) and isinstance(n, int)
    if n == 3:
        raise ValueError("n=3 is out of range")
    text = file.read_text()
    print("working on", file.name)
    return {"ll": round(-(mu - len(text)) ** 2 / n, 6), "name": file.name}

if __name__ == "__main__":
    file, mu, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    try:
        r = loglike(Path(file), mu, n)
    except ValueError as e:
        print(e, file=sys.stderr)
        sys.exit(1)
    print(json.dumps(r))
`;

describe('--call: in-process calls in warm workers', function () {
  this.timeout(240_000);

  it('gives the results.csv of cold and warm runs; a raise fails the task with its traceback in the log', () => {
    const dir = tmpDir('pr-call-');
    writeFiles(dir, { 'lik.py': SCRIPT, 'in/a.txt': 'abc', 'in/b b.txt': 'hello' });
    const common = ['-j', '2', '--quiet', '--files', 'in/*.txt', '--grid', 'mu=0:1:0.25', '--grid', 'n=1:3', '--script', 'lik.py'];
    const cold = cli(['run', '--out', 'cold', ...common], dir);
    const warm = cli(['run', '--out', 'warm', '--warm', ...common], dir);
    const call = cli(['run', '--out', 'call', '--call', 'loglike', ...common], dir);
    for (const r of [cold, warm, call]) assert.strictEqual(r.code, 1, r.stderr);
    const t = table(path.join(dir, 'cold', 'results.csv'));
    assert.deepStrictEqual(t[0], ['file', 'mu', 'n', 'status', 'll', 'name']);
    assert.strictEqual(t.length, 1 + 2 * 5 * 3);
    assert.deepStrictEqual(table(path.join(dir, 'warm', 'results.csv')), t);
    assert.deepStrictEqual(table(path.join(dir, 'call', 'results.csv')), t);
    const failed = journalLines(path.join(dir, 'call')).filter((l) => l.status === 'failed');
    assert.strictEqual(failed.length, 10);
    assert.ok(failed.every((l) => l.mode === 'call' && l.inputs[2] === '3'));
    const log = fs.readFileSync(path.join(dir, 'call', failed[0].stderrLog), 'utf8');
    assert.match(log, /Traceback \(most recent call last\):\n {2}File ".*lik\.py", line \d+, in loglike\n[\s\S]*ValueError: n=3 is out of range/);
    assert.doesNotMatch(log, /call_host\.py/, 'the traceback starts at the function');
    assert.match(fs.readFileSync(path.join(dir, 'call', journalLines(path.join(dir, 'call'))[0].stdoutLog), 'utf8'), /^working on /, 'print() goes to the task log');
    // a call's log exists when it wrote to that stream: no empty file per call, no scratch file left
    for (const l of journalLines(path.join(dir, 'call'))) {
      const has = (rel: string) => fs.existsSync(path.join(dir, 'call', rel));
      assert.deepStrictEqual([has(l.stdoutLog), has(l.stderrLog)], l.status === 'succeeded' ? [true, false] : [false, true], `${l.file}: ${l.status}`);
    }
    assert.deepStrictEqual(fs.readdirSync(path.join(dir, 'call', 'logs')).filter((f) => f.startsWith('.')), []);
    // the tails come from the logs the host said the call made: the output, the traceback, nothing else
    for (const l of journalLines(path.join(dir, 'call'))) {
      if (l.status === 'succeeded') assert.deepStrictEqual([l.stdoutTail, l.stderrTail], [`working on ${path.basename(l.inputs[0])}\n`, '']);
      else assert.ok(l.stdoutTail === '' && /ValueError: n=3 is out of range\n$/.test(l.stderrTail), JSON.stringify(l));
    }
  });

  it("a retry's logs are the retry's own: an earlier attempt's output goes, a silent attempt leaves none", () => {
    const script = 'import os, sys\nTRIES = {}\ndef f(k: int):\n    TRIES[k] = TRIES.get(k, 0) + 1\n    if TRIES[k] == 1:\n        print("first attempt of", k)\n        print("first warning", file=sys.stderr)\n    raise RuntimeError("attempt %d" % TRIES[k])\n';
    const { dir, lines } = runIn({ 'r.py': script }, ['-j', '1', '--retries', '1', '--script', 'r.py', '--call', 'f', '--grid', 'k=1:2']);
    assert.deepStrictEqual(lines.map((l) => [l.status, l.attempts]), [['failed', 2], ['failed', 2]]);
    for (const l of lines) {
      assert.ok(!fs.existsSync(path.join(dir, 'o', l.stdoutLog)), 'the first attempt\'s output is gone with it');
      const err = fs.readFileSync(path.join(dir, 'o', l.stderrLog), 'utf8');
      assert.match(err, /RuntimeError: attempt 2/);
      assert.doesNotMatch(err, /first warning|attempt 1/);
    }
  });

  it('replaces a worker whose call timed out or crashed the interpreter; the tasks queued behind it still run once', () => {
    const script = 'import os, time\nSEEN = []\ndef f(k: int):\n    SEEN.append(k)\n    if k == 150:\n        os._exit(9)\n    if k == 260:\n        print("hanging now", flush=True)\n        time.sleep(60)\n    return {"k2": k * k, "pid": os.getpid(), "seen": len(SEEN)}\n';
    const { dir, lines } = runIn({ 'k.py': script }, ['-j', '2', '--timeout', '5', '--script', 'k.py', '--call', 'f', '--grid', 'k=1:400']);
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'o', 'report.json'), 'utf8'));
    assert.ok(report.batched && report.batched.batches > 0, 'short calls went in batches');
    assert.strictEqual(lines.length, 400, 'one journal line per tuple');
    assert.strictEqual(new Set(lines.map((l) => l.inputs[0])).size, 400);
    const bad = lines.filter((l) => l.status !== 'succeeded').map((l) => [l.inputs[0], l.status]).sort();
    assert.deepStrictEqual(bad, [['150', 'failed'], ['260', 'timedOut']], 'only the crashing and the hanging call failed');
    // what the call printed before it was killed is in its log (the host's scratch log, renamed)
    const hung = lines.find((l) => l.inputs[0] === '260')!;
    assert.strictEqual(fs.readFileSync(path.join(dir, 'o', hung.stdoutLog), 'utf8'), 'hanging now\n');
    assert.match(fs.readFileSync(path.join(dir, 'o', hung.stderrLog), 'utf8'), /^parallel-run: Python worker host exited/);
    assert.deepStrictEqual(fs.readdirSync(path.join(dir, 'o', 'logs')).filter((f) => f.startsWith('.')), [], 'no scratch log left');
    const pids = new Set(lines.filter((l) => l.status === 'succeeded').map((l) => l.result.pid));
    assert.ok(pids.size >= 3, `the dead workers were replaced (${pids.size} worker processes)`);
    assert.ok(lines.some((l) => l.status === 'succeeded' && l.result.seen > 1), 'state is shared between calls in one worker');
    const rows = readCsv(fs.readFileSync(path.join(dir, 'o', 'results.csv'), 'utf8')).rows;
    assert.strictEqual(rows.length, 400);
  });

  it("SIGINT mid-run: the call hosts (the runner's own thread talks to them) end with the run; every call that ended is journaled once", async () => {
    const dir = tmpDir('pr-call-');
    writeFiles(dir, { 'slow.py': 'import time\ndef f(k: int):\n    time.sleep(0.3)\n    return {"k": k}\n' });
    const child = spawn(process.execPath, [CLI, 'run', '-j', '2', '--quiet', '--out', 'o', '--script', 'slow.py', '--call', 'f', '--grid', 'k=1:60'], { cwd: dir, stdio: 'ignore', env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON } });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const journal = path.join(dir, 'o', 'journal.ndjson');
    const t0 = Date.now();
    while (Date.now() - t0 < 30_000 && (!fs.existsSync(journal) || fs.readFileSync(journal, 'utf8').split('\n').length < 4)) await sleep(100);
    const session = (JSON.parse(fs.readFileSync(path.join(dir, 'o', 'run.json'), 'utf8')) as RunDefinition).sessions[0].session;
    assert.strictEqual(processesWithEnv('PARALLEL_RUN_SESSION', session).length, 2, 'two call hosts run');
    child.kill('SIGINT');
    assert.strictEqual(await exited, 130);
    await sleep(1000);
    assert.deepStrictEqual(processesWithEnv('PARALLEL_RUN_SESSION', session), [], 'no host of the run is left');
    const lines = journalLines(path.join(dir, 'o'));
    assert.ok(lines.length >= 3 && lines.length < 60, `${lines.length} lines`);
    assert.strictEqual(new Set(lines.map((l) => l.index)).size, lines.length, 'no task twice');
    assert.ok(lines.every((l) => l.status !== 'succeeded' || l.result.k === Number(l.inputs[0])));
    assert.strictEqual(JSON.parse(fs.readFileSync(path.join(dir, 'o', 'report.json'), 'utf8')).status, 'cancelled');
  });

  it('a host keeps the memory a call freed for the next call (no page fault per call for it), unless PARALLEL_RUN_CALL_KEEP_MB=0', function () {
    if (process.platform !== 'linux') this.skip();
    const dir = tmpDir('pr-call-');
    // six 360 KB buffers a call: above glibc's default mmap threshold, so each is mapped and unmapped
    writeFiles(dir, { 'm.py': 'import resource\ndef f(k: int):\n    r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n    bufs = [bytearray(360_000) for _ in range(6)]\n    del bufs\n    return {"faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0}\n' });
    const faults = (out: string, env: Record<string, string>) => {
      const r = spawnSync(process.execPath, [CLI, 'run', '-j', '1', '--quiet', '--out', out, '--script', 'm.py', '--call', 'f', '--grid', 'k=1:6'], { cwd: dir, encoding: 'utf8', timeout: 100_000, env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON, ...env } });
      assert.strictEqual(r.status, 0, r.stderr);
      return journalLines(path.join(dir, out)).sort((a, b) => a.index - b.index).map((l) => l.result.faults as number);
    };
    const kept = faults('kept', {});
    const given = faults('given', { PARALLEL_RUN_CALL_KEEP_MB: '0' });
    // the first call maps the memory either way; from the second on, a kept heap costs no fault
    assert.ok(kept.slice(1).every((n) => n < 50), `kept: ${kept}`);
    assert.ok(given.slice(1).every((n) => n > 300), `glibc's default: ${given}`);
  });

  it('refuses a function that does not exist or cannot take the inputs (exit 2, nothing written)', () => {
    const dir = tmpDir('pr-call-');
    writeFiles(dir, { 's.py': 'def g(a, b=1):\n    return a\n\ndef h(*, a):\n    return a\n', 'bad.py': 'def g(a):\n    return a\n\nprint("ran", file=open("RAN", "w")\nif x\n' });
    const cases: Array<[string[], RegExp]> = [
      [['--call', 'nope', '--grid', 'a=1'], /no top-level function 'nope' .*Its top-level functions: g, h/],
      [['--call', 'g', '--grid', 'b=1'], /no input gives its required parameter a/],
      [['--call', 'g', '--grid', 'a=1', '--grid', 'c=2'], /the input "c" has no parameter of that name in g\(a, b\)/],
      [['--call', 'h', '--', ':::', 'x'], /takes no positional parameter, but each task passes its file first/],
      [['--call', 'g', '--grid', 'a=1', '--', '--extra'], /extra args after -- \(--extra\) have nowhere to go/],
      [['--call', 'g', '--warm', '--grid', 'a=1'], /--call and --warm/],
      // the signature check compiles the whole script, in the same interpreter start
      [['--script', 'bad.py', '--call', 'g', '--grid', 'a=1'], /^parallel-run: Cannot run: .*bad\.py line 4: SyntaxError: .*nothing ran/],
    ];
    for (const [args, re] of cases) {
      const r = cli(['run', '--out', 'o', '--script', 's.py', ...args], dir);
      assert.strictEqual(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.ok(!fs.existsSync(path.join(dir, 'o')));
    }
  });
  it('sends a result with the host\'s reply (no result file per call); a result too big for a line goes through the file', () => {
    const dir = tmpDir('pr-call-');
    writeFiles(dir, { 'big.py': 'def f(n: int):\n    return {"n": n, "blob": "x" * (n * 40000), "arr": [n, n / 2]}\n' });
    const r = cli(['run', '-j', '1', '--quiet', '--out', 'run', '--script', 'big.py', '--call', 'f', '--grid', 'n=0,1,2'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    const rows = fs.readFileSync(path.join(dir, 'run', 'results.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).sort((a, b) => Number(a.n) - Number(b.n));
    assert.deepStrictEqual(rows.map((x) => [x.n, x.result_n, x.blob.length, x.arr]), [['0', 0, 0, [0, 0]], ['1', 1, 40000, [1, 0.5]], ['2', 2, 80000, [2, 1]]]);
    // only the result above the inline limit (80,000 bytes of JSON) was written to a file
    assert.deepStrictEqual(fs.readdirSync(path.join(dir, 'run', 'logs')).filter((f) => f.endsWith('.result.json')), ['000003-n=2.result.json']);
  });
  it('a call\'s result in its host\'s completion line (one field, no space) comes back with the task after a runner kill', () => {
    const dir = tmpDir('pr-call-');
    const token = { s: 'sess', fp: 'fp', i: 7, a: 1, slot: 2, f: 'mu=0.5 s=a b', v: ['0.5', 'a b'], stem: '000007-mu=0.5,s=a_b' };
    // as call_host.py writes it: compact JSON, a space inside a string escaped
    const line = `${JSON.stringify(token)} D 123 0 0.002000 0.001000 2048 1000.000 1004.000 {"ll":-1.5,"label":"a\\u0020b","arr":[1,2]}`;
    const c = parseCompletion(line)!;
    assert.deepStrictEqual([c.token.i, c.status, c.start, c.end, c.maxRssKb], [7, 0, 1000, 1004, 2048]);
    const def = { command: { kind: 'python', python: PYTHON, script: 'x.py', args: [], warm: false, call: 'f' }, threadEnv: {} } as unknown as RunDefinition;
    const rec = completionRecord(c, def, dir, 4096);
    assert.deepStrictEqual(rec.result, { ll: -1.5, label: 'a b', arr: [1, 2] });
    assert.deepStrictEqual([rec.mode, rec.inputs], ['call', ['0.5', 'a b']]);
    // a line without a result (a cold or warm task) reads as before
    assert.strictEqual(parseCompletion(`${JSON.stringify(token)} D 123 0 0.002 0.001 2048 1000 1004`)!.resultJson, undefined);
    // the duration to the microsecond, though start and end are whole ms
    const short = parseCompletion(`${JSON.stringify(token)} D 123 0 0.000300 0 2048 1000.125 1000.437`)!;
    assert.deepStrictEqual([short.start, short.end, short.wallMs], [1000, 1000, 0.312]);
    assert.strictEqual(completionRecord(short, def, dir, 4096).wallMs, 0.312);
  });
  it('a call of under a millisecond has its duration and CPU time to the microsecond (journal, results.csv), not a whole "0" or "0.001"', () => {
    const dir = tmpDir('pr-call-');
    writeFiles(dir, { 'quick.py': 'import time\n\ndef f(k: int):\n    t = time.perf_counter()\n    while time.perf_counter() - t < 0.0003 * (1 + k % 3):\n        pass\n    return {"k": k}\n' });
    const r = cli(['run', '-j', '2', '--quiet', '--out', 'run', '--script', 'quick.py', '--call', 'f', '--grid', 'k=1:60'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    const lines = journalLines(path.join(dir, 'run'));
    assert.strictEqual(lines.length, 60);
    // each call spins 0.3, 0.6 or 0.9 ms: its wall time is at least that, and not rounded to whole ms
    for (const l of lines) assert.ok(l.wallMs >= 0.3 && l.wallMs < 50, `wallMs ${l.wallMs}`);
    const fractional = lines.filter((l) => !Number.isInteger(l.wallMs));
    assert.ok(fractional.length >= 55, `durations in whole ms: ${lines.map((l) => l.wallMs).join(' ')}`);
    // and their CPU time (rusage, to the microsecond): a sum over many such calls must not drift by whole ms
    const cpuInMs = lines.map((l) => (l.cpuUserSec + l.cpuSysSec) * 1000);
    assert.ok(cpuInMs.filter((c) => Math.abs(c - Math.round(c)) > 1e-6).length >= 50, `CPU in whole ms: ${cpuInMs.join(' ')}`);
    const { columns, rows } = readCsv(fs.readFileSync(path.join(dir, 'run', 'results.csv'), 'utf8'));
    const byK = new Map(lines.map((l) => [String(l.inputs![0]), l.wallMs]));
    for (const row of rows) {
      const seconds = Number(row[columns.indexOf('seconds')]);
      assert.ok(seconds > 0, 'no call of 0.3 ms shows as 0 s');
      assert.strictEqual(seconds, Math.round(byK.get(row[columns.indexOf('k')])! * 1000) / 1e6, 'seconds = the journal\'s wall time');
    }
  });
});
