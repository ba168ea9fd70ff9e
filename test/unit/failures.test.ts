/**
 * Error signatures on real tracebacks (captured from python3 running the scripts in
 * test/fixtures/tracebacks), grouping, and the --halt / early-stop rules.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  EarlyStop,
  failureSignature,
  FailureGrouper,
  groupFailures,
  groupLine,
  haltReached,
  haltText,
  normaliseMessage,
  parseHalt,
  parseTraceback,
} from '../../extension/core/run/failures';
import { UsageError, type TaskRecord } from '../../extension/core/run/types';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'tracebacks');
const tb = (name: string) => fs.readFileSync(path.join(FIXTURES, `${name}.txt`), 'utf8');

function rec(stderrTail: string, extra: Partial<TaskRecord> = {}): TaskRecord {
  return {
    index: 1, file: 'data/field_0042.fits', slot: 1, status: 'failed', attempts: 1, start: 0, end: 1, wallMs: 1, exitCode: 1, signal: null,
    cpuUserSec: 0, cpuSysSec: 0, maxRssKb: null, stdoutTail: '', stderrTail, stdoutLog: 'logs/1.out', stderrLog: 'logs/1.err', threadEnv: {}, mode: 'cold',
    ...extra,
  };
}

describe('failure signatures on real tracebacks', () => {
  const table: Array<[string, string, Partial<ReturnType<typeof failureSignature>>]> = [
    ['keyerror', "KeyError: 'EXPTIME' (keyerror.py:4)", { exception: 'KeyError', message: "'EXPTIME'", frame: { file: '/tmp/pr-tb/proj/keyerror.py', line: 4, function: 'read_header' } }],
    ['fnf', "FileNotFoundError: [Errno 2] No such file or directory: '/data/calib/field_0042.dark' (fnf.py:2)", { exception: 'FileNotFoundError' }],
    ['npbroadcast', 'ValueError: operands could not be broadcast together with shapes (3,4) (5,) (npbroadcast.py:3)', { exception: 'ValueError' }],
    ['npmem', '_ArrayMemoryError: Unable to allocate 7.28 TiB for an array with shape (1000000000000,) and data type float64 (npmem.py:2)', { exception: 'numpy._core._exceptions._ArrayMemoryError' }],
    ['memerr', 'MemoryError (memerr.py:2)', { exception: 'MemoryError', message: '' }],
    // chained: the last exception counts, at its innermost user frame
    ['nested', 'RuntimeError: cannot parse field_0042.fits (nested.py:6)', { exception: 'RuntimeError' }],
    ['during', 'ZeroDivisionError: division by zero (during.py:2)', { exception: 'ZeroDivisionError' }],
    // the error is raised in the standard library / numpy: the innermost frame of the user's code
    ['libframe', 'JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1) (libframe.py:3)', { exception: 'json.decoder.JSONDecodeError' }],
    ['nploadtxt', "ValueError: could not convert string 'a' to float64 at row 0, column 1. (nploadtxt.py:3)", { exception: 'ValueError' }],
    ['syntax', 'SyntaxError: invalid syntax (syntax.py:1)', { exception: 'SyntaxError' }],
    ['multiline', 'ValueError: first line 12 (multiline.py:1)', { exception: 'ValueError' }],
    ['custom', 'BadFits: HDU 3 has no data at 0x7f3a12bc (custom.py:4)', { exception: 'BadFits' }],
  ];
  for (const [name, title, fields] of table) {
    it(`${name}: ${title}`, () => {
      const sig = failureSignature(rec(tb(name)));
      assert.strictEqual(sig.kind, 'python');
      assert.strictEqual(sig.title, title);
      for (const [k, v] of Object.entries(fields)) assert.deepStrictEqual((sig as unknown as Record<string, unknown>)[k], v, k);
    });
  }

  it('the Debian interpreter (dist-packages, /usr/lib) gives the same signature as pyenv for the same error', () => {
    assert.strictEqual(failureSignature(rec(tb('fnf_debian'))).key, failureSignature(rec(tb('fnf'))).key);
  });

  it('a tail whose start was cut off (no "Traceback" line) still parses', () => {
    const cut = tb('keyerror').split('\n').slice(3).join('\n');
    assert.ok(!cut.includes('Traceback'));
    const sig = failureSignature(rec(cut));
    assert.strictEqual(sig.title, "KeyError: 'EXPTIME' (keyerror.py:4)");
  });

  it('the parsed block is the last traceback whole, the exception line last', () => {
    const p = parseTraceback(tb('during'))!;
    assert.ok(p.text.startsWith('Traceback (most recent call last):'));
    assert.ok(p.text.endsWith('ZeroDivisionError: division by zero'));
    assert.ok(!p.text.includes('IndexError'));
    assert.deepStrictEqual(p.frames.map((f) => f.line), [6, 2]);
    assert.strictEqual(parseTraceback(tb('multiline'))!.message, 'first line 12\nsecond line');
  });

  it('non-Python tools: exit code and the last stderr line; signals; timeouts; memory kills; spawn errors', () => {
    const ls = failureSignature(rec(tb('ls'), { exitCode: 2 }));
    assert.deepStrictEqual([ls.kind, ls.title], ['exit', "exit code 2: ls: cannot access '/nonexistent/field_0042.fits': No such file or directory"]);
    const exit3 = failureSignature(rec(tb('sysexit'), { exitCode: 3 }));
    assert.strictEqual(exit3.title, 'exit code 3: processing field_0007.fits');
    assert.strictEqual(failureSignature(rec('', { exitCode: 1 })).title, 'exit code 1');
    const seg = failureSignature(rec('', { exitCode: null, signal: 'SIGSEGV' }));
    assert.deepStrictEqual([seg.kind, seg.title, seg.key], ['signal', 'killed by SIGSEGV', 'signal:SIGSEGV']);
    assert.strictEqual(failureSignature(rec(tb('keyerror'), { status: 'timedOut', signal: 'SIGTERM' })).title, 'timed out');
    const oom = failureSignature(rec('', { exitCode: null, signal: 'SIGKILL', maxRssKb: 3_027_000 }), { oomKilled: true });
    assert.deepStrictEqual([oom.kind, oom.title], ['memory', 'killed for memory at 3.1 GB peak']);
    // a SIGKILL not known to be the kernel's OOM killer is a plain signal
    assert.strictEqual(failureSignature(rec('', { exitCode: null, signal: 'SIGKILL' })).title, 'killed by SIGKILL');
    const spawn = failureSignature(rec('parallel-run: spawn ENOENT', { exitCode: null }));
    assert.deepStrictEqual([spawn.kind, spawn.title], ['start', 'could not start: spawn ENOENT']);
  });

  it('normalises numbers, paths, quoted values and addresses, not the digits of words', () => {
    assert.strictEqual(normaliseMessage("[Errno 2] No such file or directory: '/data/calib/field_0042.dark'"), "[Errno N] No such file or directory: '…'");
    assert.strictEqual(normaliseMessage('cannot parse /data/raw/field_0042.fits at 0x7f3a'), 'cannot parse <path> at 0x…');
    assert.strictEqual(normaliseMessage('could not convert to float64 at row 12, column 3.5e-3'), 'could not convert to float64 at row N, column N');
    assert.strictEqual(normaliseMessage('cannot parse field_0042.fits'), normaliseMessage('cannot parse field_0043.fits'));
    assert.strictEqual(normaliseMessage('a03.txt: refusing this file'), 'aN.txt: refusing this file');
  });
});

describe('failure groups', () => {
  it('groups the same error at the same line across files, largest first, with files, logs and traceback', () => {
    const key = tb('keyerror');
    const records: TaskRecord[] = [];
    for (let i = 1; i <= 7; i++) records.push(rec(key, { index: i, file: `data/field_${String(i).padStart(4, '0')}.fits`, stderrLog: `logs/${i}.err` }));
    records.push(rec(tb('fnf').replace('field_0042', 'field_0100'), { index: 8, file: 'data/field_0100.fits' }));
    records.push(rec(tb('fnf').replace('field_0042', 'field_0101'), { index: 9, file: 'data/field_0101.fits' }));
    records.push(rec('', { index: 10, status: 'timedOut', exitCode: null, signal: 'SIGTERM' }));
    records.push(rec('', { index: 11, status: 'succeeded', exitCode: 0 }));
    const groups = groupFailures(records);
    assert.deepStrictEqual(groups.map((g) => g.count), [7, 2, 1]);
    assert.strictEqual(groupLine(groups[0]), "7 files: KeyError: 'EXPTIME' (keyerror.py:4), e.g. field_0001.fits");
    assert.strictEqual(groups[0].logs.length, 5);
    assert.ok(groups[0].traceback!.endsWith("KeyError: 'EXPTIME'"));
    // two different paths in the message: one group, said in its normalised form
    assert.strictEqual(groups[1].title, "FileNotFoundError: [Errno N] No such file or directory: '…' (fnf.py:2)");
    assert.deepStrictEqual(groups[1].files, ['data/field_0100.fits', 'data/field_0101.fits']);
    assert.strictEqual(groupLine(groups[2]), '1 file: timed out, e.g. field_0042.fits');
  });

  it('the same exception at another line is another group; a file that succeeds later leaves its group', () => {
    const g = new FailureGrouper();
    const a = rec(tb('keyerror'), { file: 'a' });
    const b = rec(tb('keyerror').replace('line 4, in read_header', 'line 9, in read_header'), { file: 'b' });
    g.add(a, failureSignature(a));
    g.add(b, failureSignature(b));
    assert.strictEqual(g.size, 2);
    g.remove('b');
    assert.deepStrictEqual(g.groups().map((x) => x.files), [['a']]);
  });

  it('memory groups say the largest peak', () => {
    const g = new FailureGrouper();
    for (const kb of [1_000_000, 3_027_000, 2_000_000]) {
      const r = rec('', { exitCode: null, signal: 'SIGKILL', maxRssKb: kb });
      g.add(r, failureSignature(r, { oomKilled: true }));
    }
    assert.strictEqual(g.groups()[0].title, 'killed for memory at 3.1 GB peak');
  });
});

describe('--halt rules', () => {
  it('parses GNU Parallel forms', () => {
    assert.deepStrictEqual(parseHalt(undefined), { when: 'now', on: 'fail', count: 1 });
    assert.deepStrictEqual(parseHalt('now,fail=1'), { when: 'now', on: 'fail', count: 1 });
    assert.deepStrictEqual(parseHalt('soon,fail=10%'), { when: 'soon', on: 'fail', percent: 10 });
    assert.deepStrictEqual(parseHalt('now,success=1'), { when: 'now', on: 'success', count: 1 });
    assert.deepStrictEqual(parseHalt('soon,done=20'), { when: 'soon', on: 'done', count: 20 });
    assert.deepStrictEqual(parseHalt('2'), { when: 'now', on: 'fail', count: 1 });
    assert.deepStrictEqual(parseHalt('1'), { when: 'soon', on: 'fail', count: 1 });
    assert.deepStrictEqual(parseHalt('-2'), { when: 'now', on: 'success', count: 1 });
    assert.deepStrictEqual(parseHalt('25%'), { when: 'soon', on: 'fail', percent: 25 });
    assert.strictEqual(parseHalt('never'), undefined);
    assert.strictEqual(haltText(parseHalt('soon,fail=10%')!), 'soon,fail=10%');
    for (const bad of ['later,fail=1', 'now,fail=0', 'now,fail=1.5', 'now,fail=150%', 'now,crash=1', 'now']) {
      assert.throws(() => parseHalt(bad), (e: unknown) => e instanceof UsageError && /now,fail=N/.test((e as Error).message), bad);
    }
  });

  it('counts and percentages (from the 3rd finished file on)', () => {
    const pct = parseHalt('soon,fail=50%')!;
    assert.strictEqual(haltReached(pct, { done: 2, failed: 2, succeeded: 0 }), false);
    assert.strictEqual(haltReached(pct, { done: 4, failed: 1, succeeded: 3 }), false);
    assert.strictEqual(haltReached(pct, { done: 4, failed: 2, succeeded: 2 }), true);
    assert.strictEqual(haltReached(parseHalt('now,fail=3')!, { done: 9, failed: 2, succeeded: 7 }), false);
    assert.strictEqual(haltReached(parseHalt('now,fail=3')!, { done: 9, failed: 3, succeeded: 6 }), true);
    assert.strictEqual(haltReached(parseHalt('now,success=1')!, { done: 1, failed: 0, succeeded: 1 }), true);
  });
});

describe('early stop on a systematic failure', () => {
  const key = failureSignature(rec(tb('keyerror')));
  it('stops once the first K finished files all failed the same way, with the sentence users read', () => {
    const s = new EarlyStop(5);
    for (let i = 0; i < 4; i++) assert.strictEqual(s.check(key), undefined);
    assert.strictEqual(s.check(key), "the first 5 files all failed with KeyError: 'EXPTIME' (keyerror.py:4); nothing else was started. Fix the script and Resume.");
    assert.strictEqual(s.check(key), undefined, 'said once');
  });
  it('a success or another error among the first K: no stop, ever', () => {
    const s = new EarlyStop(3);
    s.check(key);
    s.check(undefined);
    assert.strictEqual(s.check(key), undefined);
    const t = new EarlyStop(3);
    t.check(key);
    t.check(failureSignature(rec(tb('fnf'))));
    for (let i = 0; i < 5; i++) assert.strictEqual(t.check(key), undefined);
    const off = new EarlyStop(0);
    for (let i = 0; i < 10; i++) assert.strictEqual(off.check(key), undefined);
  });
});
