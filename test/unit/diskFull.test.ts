/**
 * A full disk under a run, on a small tmpfs mounted by the test (root only; skipped with the reason
 * where mounting is not permitted): the journal never keeps a torn line, the run stops at once saying
 * where the disk filled and how many files are safe, leaves no temp files, and resumes once there is
 * space again.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { JournalWriter, JournalLine } from '../../extension/core/run/journal';
import { CLI, journalLines, PYTHON, tmpDir } from './engineHelpers';

/** Mounts a tmpfs of `size` at a fresh folder; undefined (with the reason) where that is not allowed. */
function mountTmpfs(size: string): { dir: string; resize(size: string): void; unmount(): void } | string {
  const dir = tmpDir('pr-diskfull-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return `cannot mount a tmpfs here (${(r.stderr || r.error?.message || `exit ${r.status}`).trim()})`;
  return {
    dir,
    resize: (s) => assert.strictEqual(spawnSync('mount', ['-o', `remount,size=${s}`, dir]).status, 0),
    unmount: () => void spawnSync('umount', ['-l', dir]),
  };
}

function line(i: number): JournalLine {
  return { index: i, file: `in/file-${i}.txt`, slot: 1, status: 'succeeded', attempts: 1, start: 0, end: 0, wallMs: 0, exitCode: 0, signal: null, cpuUserSec: 0, cpuSysSec: 0, maxRssKb: null, stdoutTail: 'x'.repeat(300), stderrTail: '', stdoutLog: '', stderrLog: '', threadEnv: {}, mode: 'cold', fp: 'f', session: 's' };
}

function tmpFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...tmpFiles(path.join(dir, e.name)));
    else if (/\.tmp$/.test(e.name)) out.push(path.join(dir, e.name));
  }
  return out;
}

describe('disk full', function () {
  this.timeout(120_000);
  let fsys: ReturnType<typeof mountTmpfs>;
  beforeEach(function () {
    fsys = mountTmpfs('256k');
    if (typeof fsys === 'string') this.skip();
  });
  afterEach(() => {
    if (typeof fsys !== 'string') fsys.unmount();
  });

  it('the journal writer cuts a short write back to the last whole line, and writes on after space returns', () => {
    if (typeof fsys === 'string') return;
    const file = path.join(fsys.dir, 'journal.ndjson');
    const w = new JournalWriter(file);
    // fill the file system but for a few hundred bytes inside the journal's last page
    w.append(line(0));
    const filler = path.join(fsys.dir, 'filler');
    const fd = fs.openSync(filler, 'w');
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(4096));
    } catch (e) {
      assert.strictEqual((e as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    fs.closeSync(fd);
    let ok = 1;
    let full: NodeJS.ErrnoException | undefined;
    for (let i = 1; i < 100 && !full; i++) {
      try {
        w.append(line(i));
        ok++;
      } catch (e) {
        full = e as NodeJS.ErrnoException;
      }
    }
    assert.strictEqual(full?.code, 'ENOSPC', 'the disk filled up');
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.endsWith('\n'), 'no torn line left');
    assert.strictEqual(text.split('\n').filter(Boolean).map((l) => JSON.parse(l)).length, ok);
    fs.rmSync(filler);
    w.append(line(1000));
    w.close();
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.strictEqual(lines.length, ok + 1, 'every appended line is whole and readable');
    assert.strictEqual(lines[lines.length - 1].index, 1000);
  });

  it('a torn last line (a crash mid-write) is cut off when the journal is opened again', () => {
    if (typeof fsys === 'string') return;
    const file = path.join(fsys.dir, 'journal.ndjson');
    fs.writeFileSync(file, JSON.stringify(line(1)) + '\n' + JSON.stringify(line(2)).slice(0, 50));
    const w = new JournalWriter(file);
    w.append(line(3));
    w.close();
    assert.deepStrictEqual(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).index), [1, 3]);
  });

  it('a run whose disk fills stops at once with "disk full at", non-zero, no temp file left; resume after freeing space', function () {
    if (typeof fsys === 'string') return;
    const work = tmpDir('pr-diskfull-in-');
    const n = 60;
    fs.mkdirSync(path.join(work, 'in'));
    for (let i = 0; i < n; i++) fs.writeFileSync(path.join(work, 'in', `f${String(i).padStart(2, '0')}.txt`), '');
    // each task prints 16 KiB: the 256 KiB file system fills after a dozen files
    const script = path.join(work, 'big.py');
    fs.writeFileSync(script, 'import sys\nsys.stdout.write("y" * 16384)\nsys.stdout.flush()\n');
    const out = path.join(fsys.dir, 'run');
    const args = ['run', '-j', '2', '--files', 'in/*.txt', '--out', out, '--quiet', '--script', script];
    // one file per slot at a time (no batches): "the files running when the disk filled" is then two
    const env = { ...process.env, PARALLEL_RUN_PYTHON: PYTHON, PARALLEL_RUN_BATCH: '1' };
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: work, encoding: 'utf8', env, timeout: 60_000 });
    assert.notStrictEqual(r.status, 0, r.stderr);
    const m = /disk full at (\S+): (\d+) files done and journaled; free space and Resume/.exec(r.stderr);
    assert.ok(m, r.stderr);
    const lines = journalLines(out); // throws on a torn line
    assert.strictEqual(Number(m![2]), lines.length);
    assert.ok(lines.length < n, `stopped before the end (${lines.length} of ${n} journaled)`);
    // stopped at once: the files recorded after the disk filled are at most the two running then
    const failed = lines.filter((l) => l.status !== 'succeeded').length;
    assert.ok(failed <= 2, `${failed} files failed after the disk filled`);
    assert.deepStrictEqual(tmpFiles(out), [], 'no temp file left');
    fsys.resize('16m');
    const again = spawnSync(process.execPath, [CLI, ...args, '--resume'], { cwd: work, encoding: 'utf8', env, timeout: 60_000 });
    assert.strictEqual(again.status, 0, again.stderr);
    const perFile = new Map<string, number>();
    for (const l of journalLines(out)) if (l.status === 'succeeded') perFile.set(l.file, (perFile.get(l.file) ?? 0) + 1);
    assert.strictEqual(perFile.size, n);
    assert.deepStrictEqual([...perFile.values()].filter((c) => c !== 1), []);
  });
});
