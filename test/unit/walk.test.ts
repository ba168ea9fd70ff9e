/**
 * Folder input with links: a symlink loop is entered once, a file reached by a second path runs
 * once, and what is skipped (FIFOs, broken or looping links, unreadable folders) is counted in a note
 * of the run's report; a FIFO given to --files is named as such.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { startRun } from '../../extension/core/run/engine';
import { openSource } from '../../extension/core/run/fileSources';
import { UsageError } from '../../extension/core/run/types';
import { baseOptions, collect, journalLines, tmpDir, writeFiles } from './engineHelpers';

async function all(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const f of it) out.push(f);
  return out;
}

/** in/ with a.txt, sub/b.txt, a loop back to in/, a second name for a.txt, a FIFO, links broken and looping, an unreadable folder. */
function hostileFolder(dir: string): string {
  writeFiles(dir, { 'in/a.txt': 'a', 'in/sub/b.txt': 'b' });
  const inDir = path.join(dir, 'in');
  fs.symlinkSync('.', path.join(inDir, 'cycle'));
  fs.symlinkSync('..', path.join(inDir, 'sub', 'up'));
  fs.symlinkSync('a.txt', path.join(inDir, 'same-as-a.txt'));
  fs.symlinkSync('missing.txt', path.join(inDir, 'broken.txt'));
  fs.symlinkSync('self.txt', path.join(inDir, 'self.txt'));
  assert.strictEqual(spawnSync('mkfifo', [path.join(inDir, 'pipe')]).status, 0);
  fs.mkdirSync(path.join(inDir, 'locked'));
  fs.writeFileSync(path.join(inDir, 'locked', 'c.txt'), 'c');
  fs.chmodSync(path.join(inDir, 'locked'), 0o000);
  return inDir;
}

describe('folder walk: links, loops and skipped inputs', function () {
  this.timeout(60_000);
  // root reads any folder: the unreadable case needs an unprivileged user
  const root = process.getuid?.() === 0;

  it('a folder with a symlink loop, a second name for a file and non-files: each file once, the rest counted', async () => {
    const dir = tmpDir('pr-walk-');
    const inDir = hostileFolder(dir);
    const src = await openSource({ kind: 'folder', path: inDir, recursive: true });
    const files = await all(src.files);
    assert.deepStrictEqual(files.map((f) => path.relative(inDir, f)).sort(), ['a.txt', 'sub/b.txt'].concat(root ? ['locked/c.txt'] : []).sort());
    const notes = src.notes!().join('\n');
    assert.match(notes, /2 folders reached again through a link \(a symlink loop\) not entered twice/);
    assert.match(notes, /1 file reached by a second path \(a link\) run once/);
    assert.match(notes, /1 FIFO \(named pipe\)/);
    assert.match(notes, /1 broken link/);
    assert.match(notes, /1 looping link/);
    if (!root) assert.match(notes, /1 folder or link that could not be read/);
    assert.strictEqual(await src.count!(), files.length, 'the count pass agrees');
    fs.chmodSync(path.join(inDir, 'locked'), 0o755);
  });

  it('a run over such a folder (and over it given to --files) runs each file once and says what it skipped', async () => {
    const dir = tmpDir('pr-walk-');
    const inDir = hostileFolder(dir);
    fs.chmodSync(path.join(inDir, 'locked'), 0o755);
    for (const files of [{ kind: 'folder' as const, path: inDir, recursive: true }, { kind: 'globs' as const, patterns: ['in'], cwd: dir }]) {
      const out = tmpDir('pr-walk-out-');
      const { report } = await collect(await startRun(baseOptions(dir, { files, outDir: path.join(out, 'run') })));
      const ran = journalLines(path.join(out, 'run')).map((l) => path.relative(dir, path.resolve(dir, l.file))).sort();
      assert.deepStrictEqual(ran, ['in/a.txt', 'in/locked/c.txt', 'in/sub/b.txt'], files.kind);
      assert.ok(report.notes.some((n) => /symlink loop/.test(n)), report.notes.join('\n'));
      assert.ok(report.notes.some((n) => /Skipped inputs that are not regular files: 1 FIFO/.test(n)), report.notes.join('\n'));
    }
  });

  it('a FIFO given to --files is named as a FIFO (not "matched nothing")', async () => {
    const dir = tmpDir('pr-walk-');
    assert.strictEqual(spawnSync('mkfifo', [path.join(dir, 'names')]).status, 0);
    await assert.rejects(openSource({ kind: 'globs', patterns: ['names'], cwd: dir }), (e: Error) => e instanceof UsageError && /is a FIFO \(named pipe\), not a regular file.*--files-from names/.test(e.message));
  });
});
