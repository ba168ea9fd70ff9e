/**
 * Input sources counted ahead: a glob, a folder, a list file and an in-memory list are counted in a
 * second pass (the same files the streamed pass yields), so a run knows its total long before its
 * last file is dispatched; a pipe is read once only and is not counted.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { openSource } from '../../extension/core/run/fileSources';
import { startRun } from '../../extension/core/run/engine';
import { FileSource } from '../../extension/core/run/types';
import { collect, tmpDir, WORKERS_DIR, writeFiles } from './engineHelpers';

async function streamed(src: FileSource): Promise<string[]> {
  const s = await openSource(src);
  const out: string[] = [];
  for await (const f of s.files) out.push(f);
  s.close();
  return out;
}

async function counted(src: FileSource): Promise<number | undefined> {
  const s = await openSource(src);
  try {
    assert.ok(s.count, `${src.kind} can be counted ahead`);
    return await s.count();
  } finally {
    s.close();
  }
}

describe('file sources: counted ahead', function () {
  this.timeout(30_000);

  it('a list file: the count equals what the streamed pass yields (CRLF, blank lines, a lone CR, no final newline, NUL-separated)', async () => {
    const dir = tmpDir('pr-src-');
    const cases: Array<[string, boolean]> = [
      ['a.txt\nb c.txt\n\n\nd.txt\n', false],
      ['a.txt\r\nb.txt\r\n\r\n\r\ne.txt', false],
      ['\n\n\n', false],
      ['only', false],
      ['x\0y\n z\0\0w\0', true],
    ];
    for (const [i, [text, nul]] of cases.entries()) {
      const list = path.join(dir, `list${i}`);
      fs.writeFileSync(list, text);
      const src: FileSource = { kind: 'listFile', path: list, nulSeparated: nul };
      let want: number;
      try {
        want = (await streamed(src)).length;
      } catch {
        want = 0; // "matched nothing": a usage error, nothing to count
      }
      if (want === 0) continue;
      assert.strictEqual(await counted(src), want, JSON.stringify(text));
    }
  });

  it('globs (literal names, a folder, duplicates) and folders count what they stream', async () => {
    const dir = tmpDir('pr-src-');
    writeFiles(dir, { 'in/a.txt': '', 'in/b.txt': '', 'in/sub/c.txt': '', 'in/.hidden': '', 'other/d.dat': '' });
    const globs: FileSource = { kind: 'globs', patterns: ['in/a.txt', 'in/*.txt', 'other'], cwd: dir };
    assert.deepStrictEqual(await counted(globs), (await streamed(globs)).length);
    assert.strictEqual(await counted(globs), 3);
    const folder: FileSource = { kind: 'folder', path: path.join(dir, 'in'), recursive: true };
    assert.strictEqual(await counted(folder), (await streamed(folder)).length);
    const list: FileSource = { kind: 'list', files: ['a', '', 'b'] };
    assert.strictEqual(await counted(list), 2);
  });

  it('a pipe is read once only: not counted ahead, every name still streamed', async () => {
    const dir = tmpDir('pr-src-');
    const fifo = path.join(dir, 'names');
    execFileSync('mkfifo', [fifo]);
    const writer = fs.promises.writeFile(fifo, 'a\nb\nc\n');
    const s = await openSource({ kind: 'listFile', path: fifo, nulSeparated: false });
    assert.strictEqual(s.count, undefined);
    const out: string[] = [];
    for await (const f of s.files) out.push(f);
    await writer;
    assert.deepStrictEqual(out, ['a', 'b', 'c']);
  });

  it('close() stops a count under way: it resolves undefined', async () => {
    const dir = tmpDir('pr-src-');
    const names: string[] = [];
    for (let i = 0; i < 20000; i++) names.push(`f${i}.txt`);
    fs.writeFileSync(path.join(dir, 'list'), names.join('\n'));
    const s = await openSource({ kind: 'listFile', path: path.join(dir, 'list'), nulSeparated: false });
    const pending = s.count!();
    s.close();
    assert.strictEqual(await pending, undefined);
  });

  it('a run knows its total while most of its files are still to come (progress has done/total and an ETA early)', async () => {
    const dir = tmpDir('pr-src-');
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`in/f${String(i).padStart(2, '0')}.txt`] = '';
    writeFiles(dir, files);
    const h = await startRun({
      command: { kind: 'template', argv: ['sh', '-c', 'sleep 0.1', 'sh', '{}'] },
      files: { kind: 'globs', patterns: ['in/*.txt'], cwd: dir },
      cwd: dir,
      outDir: path.join(dir, 'run'),
      workersDir: WORKERS_DIR,
      workers: 1,
    });
    const { events, report } = await collect(h);
    assert.strictEqual(report.counts.total, 30);
    assert.strictEqual(report.counts.succeeded, 30);
    const totals = events.filter((e) => e.type === 'total');
    assert.deepStrictEqual(totals.map((e) => e.type === 'total' && e.total), [30], 'one total event, the right one');
    const at = events.indexOf(totals[0]);
    const startedBefore = events.slice(0, at).filter((e) => e.type === 'taskStarted').length;
    assert.ok(startedBefore < 10, `the total came after ${startedBefore} of 30 tasks had started (the streamed pass alone knows it only at the 30th)`);
    const firstProgress = events.find((e) => e.type === 'progress' && e.total === 30 && e.etaMs !== null);
    assert.ok(firstProgress && firstProgress.type === 'progress' && firstProgress.done < 15, 'progress with total and ETA in the first half of the run');
  });
});
