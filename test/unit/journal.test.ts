/** Journal and resume logic: append/read, torn lines after a crash, fingerprints, unchanged files. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { fileKey, fingerprint, JournalLine, JournalWriter, readJournal, succeededFiles, unchanged } from '../../extension/core/run/journal';
import { writeReportAtomic } from '../../extension/core/run/runReport';
import type { RunReport } from '../../extension/core/run/types';
import { tmpDir } from './engineHelpers';

function line(file: string, status: JournalLine['status'], fp = 'fp1', extra: Partial<JournalLine> = {}): JournalLine {
  return {
    index: 1, file, slot: 1, status, attempts: 1, start: 1, end: 2, wallMs: 1, exitCode: status === 'succeeded' ? 0 : 1, signal: null,
    cpuUserSec: 0, cpuSysSec: 0, maxRssKb: null, stdoutTail: '', stderrTail: '', stdoutLog: 'l.out', stderrLog: 'l.err',
    threadEnv: {}, mode: 'cold', fileSize: 10, fileMtimeMs: 1000, fp, session: 's1', ...extra,
  };
}

async function all(file: string): Promise<JournalLine[]> {
  const out: JournalLine[] = [];
  for await (const l of readJournal(file)) out.push(l);
  return out;
}

describe('journal', () => {
  it('appends one line per task and reads them back', async () => {
    const f = path.join(tmpDir('pr-journal-'), 'journal.ndjson');
    const w = new JournalWriter(f);
    w.append(line('a', 'succeeded'));
    w.append(line('b', 'failed'));
    w.close();
    assert.deepStrictEqual((await all(f)).map((l) => [l.file, l.status]), [['a', 'succeeded'], ['b', 'failed']]);
    assert.deepStrictEqual(await all(f + '.missing'), []);
  });

  it('corked: appends wait in memory and go in one write, whole lines in order; a failed write says how many lines it lost', async () => {
    const f = path.join(tmpDir('pr-journal-'), 'journal.ndjson');
    const w = new JournalWriter(f);
    w.append(line('a', 'succeeded'));
    w.cork();
    w.append(line('b', 'failed'));
    w.append(line('c', 'succeeded'));
    assert.deepStrictEqual((await all(f)).map((l) => l.file), ['a'], 'nothing written while corked');
    w.uncork();
    w.append(line('d', 'succeeded'));
    assert.deepStrictEqual((await all(f)).map((l) => l.file), ['a', 'b', 'c', 'd']);
    w.uncork(); // nothing held: nothing written
    w.close();
    assert.strictEqual(fs.readFileSync(f, 'utf8').split('\n').length, 5);
    // a full disk: the lines held are not written, and the error says so
    const full = new JournalWriter('/dev/full');
    full.cork();
    for (const x of ['e', 'f', 'g']) full.append(line(x, 'succeeded'));
    assert.throws(() => full.uncork(), (e: NodeJS.ErrnoException & { unwritten?: number }) => e.code === 'ENOSPC' && e.unwritten === 3);
    assert.throws(() => full.append(line('h', 'succeeded')), (e: { unwritten?: number }) => e.unwritten === 1);
    full.close();
  });

  it('survives a line torn by a crash: the reader skips it, the next append starts a fresh line', async () => {
    const f = path.join(tmpDir('pr-journal-'), 'journal.ndjson');
    fs.writeFileSync(f, JSON.stringify(line('a', 'succeeded')) + '\n' + JSON.stringify(line('b', 'succeeded')).slice(0, 40));
    const w = new JournalWriter(f);
    w.append(line('c', 'succeeded'));
    w.close();
    assert.deepStrictEqual((await all(f)).map((l) => l.file), ['a', 'c']);
  });

  it('succeededFiles keeps only successes of the same fingerprint, by absolute path', async () => {
    const dir = tmpDir('pr-journal-');
    const f = path.join(dir, 'journal.ndjson');
    const w = new JournalWriter(f);
    w.append(line('in/a', 'succeeded'));
    w.append(line('in/b', 'failed'));
    w.append(line('in/c', 'succeeded', 'other'));
    w.close();
    const done = await succeededFiles(f, 'fp1', dir);
    assert.deepStrictEqual([...done.keys()], [path.join(dir, 'in/a')]);
  });

  it('reads lines across the reader\'s 1 MB chunks, CRLF endings, blank lines and a last line without a newline', async () => {
    const file = path.join(tmpDir('pr-journal-'), 'journal.ndjson');
    const big = 'x'.repeat(700_000); // two of these straddle the first chunk boundary
    const lines = [line('a', 'succeeded', 'fp1', { stdoutTail: big }), line('b', 'failed', 'fp1', { stdoutTail: big }), line('c', 'succeeded')];
    fs.writeFileSync(file, `${JSON.stringify(lines[0])}\r\n\n${JSON.stringify(lines[1])}\n{"torn": \n${JSON.stringify(lines[2])}`);
    assert.deepStrictEqual((await all(file)).map((l) => [l.file, l.status, l.stdoutTail.length]), [['a', 'succeeded', 700_000], ['b', 'failed', 700_000], ['c', 'succeeded', 0]]);
  });

  it('keeps multi-byte characters whole where a 1 MB chunk boundary cuts through one (both byte parities)', async () => {
    for (const name of ['a', 'ab']) {
      const file = path.join(tmpDir('pr-journal-'), 'journal.ndjson');
      const text = 'é∑😀'.repeat(150_000); // 2-, 3- and 4-byte characters, 1.35 MB: the first boundary falls inside one
      fs.writeFileSync(file, `${JSON.stringify(line(name, 'succeeded', 'fp1', { stdoutTail: text }))}\n${JSON.stringify(line('z', 'failed'))}\n`);
      const got = await all(file);
      assert.deepStrictEqual(got.map((l) => l.file), [name, 'z']);
      assert.strictEqual(got[0].stdoutTail, text);
    }
  });

  it('fileKey is path.resolve: normal absolute paths as they are, anything else resolved', () => {
    const cwd = '/work/project';
    for (const f of ['/a/b.fits', '/a//b', '/a/./b', '/a/../b', '/a/b/', '/a/b/.', '/a/b/..', 'data/x.fits', './x', '../x', '', '/', '/.hidden/..x', '/a/.b/c..']) {
      assert.strictEqual(fileKey(f, cwd), path.resolve(cwd, f), f);
    }
  });

  it('unchanged: same size and mtime only', () => {
    assert.strictEqual(unchanged({ size: 10, mtimeMs: 1000 }, { size: 10, mtimeMs: 1000 }), true);
    assert.strictEqual(unchanged({ size: 10, mtimeMs: 1000 }, { size: 11, mtimeMs: 1000 }), false);
    assert.strictEqual(unchanged({ size: 10, mtimeMs: 1000 }, { size: 10, mtimeMs: 2000 }), false);
    assert.strictEqual(unchanged(undefined, { size: 10, mtimeMs: 1000 }), false);
  });

  it('fingerprint changes with script content, template, args and env, not with anything else', () => {
    const dir = tmpDir('pr-journal-');
    const script = path.join(dir, 'a.py');
    fs.writeFileSync(script, 'print(1)\n');
    const py = (args: string[] = []) => ({ kind: 'python' as const, python: '/usr/bin/python3', script, args, warm: false });
    const a = fingerprint(py(), dir);
    assert.strictEqual(fingerprint(py(), dir), a);
    assert.strictEqual(fingerprint({ ...py(), warm: true }, dir), a, 'warm or cold: same results');
    assert.notStrictEqual(fingerprint(py(['--x']), dir), a);
    assert.notStrictEqual(fingerprint(py(), dir, { SEED: '1' }), a);
    fs.writeFileSync(script, 'print(2)\n');
    assert.notStrictEqual(fingerprint(py(), dir), a, 'edited script');
    // a template naming a script: its content counts too
    const t = fingerprint({ kind: 'template', argv: ['python3', 'a.py', '{}'] }, dir);
    fs.writeFileSync(script, 'print(3)\n');
    assert.notStrictEqual(fingerprint({ kind: 'template', argv: ['python3', 'a.py', '{}'] }, dir), t);
    assert.notStrictEqual(fingerprint({ kind: 'template', argv: ['python3', 'a.py', '{.}'] }, dir), t);
  });
});

describe('report.json writer (streamed task by task)', () => {
  it('writes a report that parses back to exactly the same object, for 0, 1 and 1,234 tasks', async () => {
    const dir = tmpDir('pr-report-write-');
    for (const n of [0, 1, 1234]) {
      const tasks = Array.from({ length: n }, (_, i) => {
        const { fp: _fp, session: _s, ...rec } = line(`in/f "${i}"\n.txt`, i % 7 === 0 ? 'failed' : 'succeeded', 'fp', { index: i + 1, stderrTail: i % 7 === 0 ? 'Traceback\n  "x"' : '' });
        return rec;
      });
      const report = { version: 1, runId: `r${n}`, status: 'failed', counts: { total: n, done: n }, notes: ['a "quoted" note'], tasks, cpuSamples: [{ t: 1, cpu: 50, memUsed: 2 }] };
      const file = path.join(dir, `report-${n}.json`);
      await writeReportAtomic(file, report as unknown as RunReport);
      assert.deepStrictEqual(JSON.parse(fs.readFileSync(file, 'utf8')), report);
      assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
    }
  });
});
