/**
 * File names that are not valid UTF-8 (b"\xff\xfe.txt", a Latin-1 b"caf\xe9.txt") reach the task as
 * their exact bytes from every source (glob, folder, list file, stdin, `:::` on the command line) in
 * every mode (cold through the exec host, warm), the journal keeps them losslessly (a display `file`
 * and the bytes in `fileBytes`), and resume, a re-run of the failed files and `--dry-run | sh` find the
 * same files. Each task writes os.fsencode(sys.argv[1]) to got/<its PARALLEL_SEQ>: the bytes it got.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Readable } from 'stream';
import { startRun } from '../../extension/core/run/engine';
import { splitRecords } from '../../extension/core/run/fileSources';
import { argsWithBytes, displayName, fsDecode, fsEncode, hasRawBytes, nameOfRecord, recordName } from '../../extension/core/run/fsNames';
import { failedFiles } from '../../extension/core/run/history';
import type { RunOptions } from '../../extension/core/run/types';
import { CLI, journalLines, PYTHON, tmpDir, WORKERS_DIR } from './engineHelpers';

/** The raw names (bytes) every process test uses, below in/. */
const RAW: Buffer[] = [Buffer.from([0xff, 0xfe, 0x2e, 0x74, 0x78, 0x74]), Buffer.from('caf\xe9.txt', 'latin1'), Buffer.from('ok.txt'), Buffer.from('é-valid.txt')];

/** Writes the bytes of its argv[1] to got/<argv[2] or PARALLEL_SEQ>; with a file fail-raw, a name that is not UTF-8 then fails. */
const GOT_ARGV = `import os, sys
name = os.fsencode(sys.argv[1])
with open(os.path.join("got", sys.argv[2] if len(sys.argv) > 2 else os.environ["PARALLEL_SEQ"]), "wb") as f:
    f.write(name)
try:
    name.decode("utf-8")
except UnicodeDecodeError:
    if os.path.exists("fail-raw"):
        sys.exit(3)
`;

/** A folder with in/<each raw name>, a script that records the bytes it got, and got/ for them. */
function project(): string {
  const dir = tmpDir('pr-rawnames-');
  const inDir = Buffer.from(path.join(dir, 'in') + '/');
  fs.mkdirSync(path.join(dir, 'in'));
  fs.mkdirSync(path.join(dir, 'got'));
  for (const n of RAW) fs.writeFileSync(Buffer.concat([inDir, n]), 'x');
  fs.writeFileSync(path.join(dir, 'got_argv.py'), GOT_ARGV);
  return dir;
}

/** The byte strings the tasks got (what got/ holds), sorted. */
function received(dir: string): string[] {
  return fs.readdirSync(path.join(dir, 'got')).map((f) => fs.readFileSync(path.join(dir, 'got', f)).toString('hex')).sort();
}

function expected(prefix: string): string[] {
  return RAW.map((n) => Buffer.concat([Buffer.from(prefix), n]).toString('hex')).sort();
}

function clearGot(dir: string): void {
  for (const f of fs.readdirSync(path.join(dir, 'got'))) fs.rmSync(path.join(dir, 'got', f));
}

function options(dir: string, extra: Partial<RunOptions>): RunOptions {
  return {
    command: { kind: 'template', argv: [PYTHON, 'got_argv.py', '{}'] },
    files: { kind: 'globs', patterns: ['in/*'], cwd: dir },
    cwd: dir,
    outDir: path.join(dir, 'run'),
    workersDir: WORKERS_DIR,
    workers: 2,
    ...extra,
  };
}

describe('file names that are not UTF-8: names', () => {
  it('fsDecode / fsEncode give back every byte string (a table, then random bytes)', () => {
    const table = [[0xff], [0xc3, 0xa9], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf], [0x61, 0x80, 0x62]];
    for (const t of table) assert.deepStrictEqual([...fsEncode(fsDecode(Buffer.from(t)))], t);
    let seed = 7;
    for (let k = 0; k < 2000; k++) {
      const b = Buffer.alloc(1 + (k % 13));
      for (let i = 0; i < b.length; i++) b[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
      assert.ok(fsEncode(fsDecode(b)).equals(b), b.toString('hex'));
    }
  });

  it('decodes as Python\'s surrogateescape does; valid UTF-8 (an emoji too) is plain text', () => {
    assert.strictEqual(fsDecode(Buffer.from([0xff, 0xfe, 0x2e])), '\udcff\udcfe.');
    assert.strictEqual(fsDecode(Buffer.from('é😀', 'utf8')), 'é😀');
    assert.strictEqual(hasRawBytes('é😀'), false);
    assert.strictEqual(hasRawBytes('\udcff'), true);
    const py = spawnSync(PYTHON, ['-c', 'import sys; sys.stdout.write(ascii(bytes.fromhex(sys.argv[1]).decode("utf-8", "surrogateescape")))', 'ff61e282c3'], { encoding: 'utf8' });
    assert.strictEqual(JSON.stringify(fsDecode(Buffer.from('ff61e282c3', 'hex'))), JSON.stringify(eval(py.stdout)));
  });

  it('a record shows the name as Node shows it and keeps the bytes in fileBytes; nameOfRecord gives the name back', () => {
    const name = fsDecode(Buffer.from('in/\xff.txt', 'latin1'));
    const r = recordName(name);
    assert.strictEqual(r.file, 'in/\ufffd.txt');
    assert.strictEqual(Buffer.from(r.fileBytes!, 'base64').toString('latin1'), 'in/\xff.txt');
    assert.strictEqual(nameOfRecord(r), name);
    assert.strictEqual(displayName(name), r.file);
    assert.deepStrictEqual(recordName('in/plain.txt'), { file: 'in/plain.txt' });
  });

  it('list records are split on bytes: a name that is not UTF-8 keeps them, across chunk boundaries too', async () => {
    const data = Buffer.concat([Buffer.from('a.txt\n'), RAW[0], Buffer.from('\r\n'), RAW[1], Buffer.from('\n')]);
    const chunks = [data.subarray(0, 7), data.subarray(7, 9), data.subarray(9)];
    const got: string[] = [];
    for await (const r of splitRecords(Readable.from(chunks), false)) got.push(r);
    assert.deepStrictEqual(got.map((g) => fsEncode(g).toString('hex')), [Buffer.from('a.txt'), RAW[0], RAW[1]].map((b) => b.toString('hex')));
  });

  it('argsWithBytes leaves valid arguments alone (and this process\'s arguments as they are)', () => {
    const args = process.argv.slice(2);
    assert.deepStrictEqual(argsWithBytes(args), args);
    assert.deepStrictEqual(argsWithBytes(['not', 'ours']), ['not', 'ours']);
  });
});

describe('file names that are not UTF-8: runs', function () {
  this.timeout(120_000);

  for (const [what, extra] of [
    ['a glob, cold', {}],
    ['a folder, cold', { files: { kind: 'folder', path: 'in', recursive: true } }],
    ['a glob, warm', { command: { kind: 'python', python: PYTHON, script: 'got_argv.py', warm: true } }],
  ] as Array<[string, Partial<RunOptions>]>) {
    it(`${what}: each task gets its file's exact bytes; the journal keeps them; a resume runs nothing again`, async () => {
      const dir = project();
      const o = options(dir, extra);
      if (o.files.kind === 'folder') o.files = { ...o.files, path: path.join(dir, 'in') };
      const report = await (await startRun(o)).done;
      assert.strictEqual(report.status, 'succeeded', JSON.stringify(report.tasks.map((t) => t.stderrTail)));
      const prefix = o.files.kind === 'folder' ? path.join(dir, 'in') + '/' : 'in/';
      assert.deepStrictEqual(received(dir), expected(prefix));
      const lines = journalLines(o.outDir);
      const raw = lines.filter((l) => l.fileBytes);
      assert.strictEqual(raw.length, 2, 'two names are not UTF-8');
      for (const l of raw) {
        assert.ok(!hasRawBytes(l.file) && l.file.includes('\ufffd'), `shown as text: ${JSON.stringify(l.file)}`);
        assert.ok(RAW.some((n) => Buffer.from(l.fileBytes, 'base64').equals(Buffer.concat([Buffer.from(prefix), n]))));
      }
      assert.ok(!fs.readFileSync(path.join(o.outDir, 'journal.ndjson'), 'utf8').includes('\\udc'), 'no lone surrogates in the journal');
      clearGot(dir);
      const again = await (await startRun({ ...o, resume: true })).done;
      assert.strictEqual(again.counts.skipped, RAW.length, 'every file, raw names too, skipped as done');
      assert.deepStrictEqual(received(dir), []);
    });
  }

  it('a list file and stdin (--files-from), and a re-run of the failed files, find the same files', async () => {
    const dir = project();
    const list = path.join(dir, 'list');
    fs.writeFileSync(list, Buffer.concat(RAW.flatMap((n) => [Buffer.from('in/'), n, Buffer.from('\n')])));
    fs.writeFileSync(path.join(dir, 'fail-raw'), '');
    const o = options(dir, { files: { kind: 'listFile', path: list, nulSeparated: false } });
    const report = await (await startRun(o)).done;
    assert.deepStrictEqual(received(dir), expected('in/'));
    assert.strictEqual(report.counts.failed, 2, 'the two raw names failed on purpose');
    const failed = await failedFiles(o.outDir);
    assert.deepStrictEqual(failed.map((f) => fsEncode(f).toString('hex')).sort(), RAW.slice(0, 2).map((n) => Buffer.concat([Buffer.from('in/'), n]).toString('hex')).sort());
    fs.rmSync(path.join(dir, 'fail-raw'));
    clearGot(dir);
    const rerun = await (await startRun({ ...o, files: { kind: 'list', files: failed }, resume: true, subset: true })).done;
    assert.strictEqual(rerun.counts.failed, 0, JSON.stringify(rerun.tasks.map((t) => t.stderrTail)));
    assert.deepStrictEqual(received(dir), RAW.slice(0, 2).map((n) => Buffer.concat([Buffer.from('in/'), n]).toString('hex')).sort());

    clearGot(dir);
    const r = spawnSync(process.execPath, [CLI, 'run', '-j', '2', '--quiet', '--files-from', '-', '--out', 'run2', '--', PYTHON, 'got_argv.py', '{}'], { cwd: dir, input: fs.readFileSync(list), env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON } });
    assert.strictEqual(r.status, 0, r.stderr.toString());
    assert.deepStrictEqual(received(dir), expected('in/'));
  });

  it('`::: in/*` expanded by the shell, and `--dry-run | sh`: the bytes of the command line reach the task', () => {
    const dir = project();
    // Node cannot put raw bytes in a child's argv: Python's execv can (as a shell does)
    const exec = `import os, sys\nos.chdir(sys.argv[1])\nnames = sorted(b"in/" + n for n in os.listdir(b"in"))\nos.execv(sys.argv[2], [sys.argv[2], sys.argv[3], "run", "-j", "2", "--quiet", "--out", sys.argv[4], *sys.argv[5:], "--", "${PYTHON}", "got_argv.py", "{}", "{#}", ":::", *names])`;
    const run = spawnSync(PYTHON, ['-c', exec, dir, process.execPath, CLI, 'run1'], { env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON } });
    assert.strictEqual(run.status, 0, run.stderr.toString());
    assert.deepStrictEqual(received(dir), expected('in/'));
    clearGot(dir);
    const dry = spawnSync(PYTHON, ['-c', exec, dir, process.execPath, CLI, 'run2', '--dry-run'], { env: { ...process.env, PARALLEL_RUN_PYTHON: PYTHON } });
    assert.strictEqual(dry.status, 0, dry.stderr.toString());
    assert.deepStrictEqual(received(dir), [], 'a dry run starts nothing');
    const sh = spawnSync('sh', [], { cwd: dir, input: dry.stdout });
    assert.strictEqual(sh.status, 0, sh.stderr.toString());
    assert.deepStrictEqual(received(dir), expected('in/'), 'the printed commands name the same files');
    const cmds = dry.stdout.toString('latin1').trim().split('\n');
    assert.deepStrictEqual(cmds.map((c) => Buffer.from(c, 'latin1').includes(RAW[0])).filter(Boolean).length, 1, 'the raw name is printed as its bytes');
  });

  it('without a Python host (Node spawns the task), a raw name fails with a message naming the problem, not a mangled file', async () => {
    const dir = project();
    const report = await (await startRun(options(dir, { spawnVia: 'node' }))).done;
    const bad = report.tasks.filter((t) => t.status === 'failed');
    assert.strictEqual(bad.length, 2);
    for (const t of bad) assert.match(t.stderrTail, /not valid UTF-8, and only a Python 3 host can pass its bytes/);
    assert.deepStrictEqual(received(dir), expected('in/').filter((h) => Buffer.from(h, 'hex').toString('utf8').indexOf('\ufffd') < 0));
  });
});

describe('file names that are not UTF-8: Slurm', function () {
  this.timeout(60_000);

  it('the job array\'s manifest holds the names\' bytes, and reads back as the same names', async () => {
    const { prepareSlurmRun } = await import('../../extension/core/slurm/backend');
    const { readManifest } = await import('../../extension/core/slurm/layout');
    const { testSlurmSettings } = await import('./slurmHelpers');
    const dir = project();
    const prep = await prepareSlurmRun({
      command: { kind: 'template', argv: [PYTHON, 'got_argv.py', '{}'] }, files: { kind: 'globs', patterns: ['in/*'], cwd: dir }, cwd: dir, outDir: path.join(dir, 'run'),
      slurm: testSlurmSettings(), cliPath: CLI, maxArraySize: 1001, exportOnly: true,
    });
    const bytes = fs.readFileSync(path.join(prep.runDir, 'slurm', 'manifest.txt'));
    const lines: string[] = [];
    for (let start = 0, end; (end = bytes.indexOf(0x0a, start)) >= 0; start = end + 1) lines.push(bytes.subarray(start, end).toString('hex'));
    // the array tasks get absolute paths
    assert.deepStrictEqual(lines.sort(), expected(path.join(dir, 'in') + '/'));
    assert.deepStrictEqual(readManifest(path.join(prep.runDir, 'slurm'), false).map((n) => fsEncode(n).toString('hex')).sort(), expected(path.join(dir, 'in') + '/'));
  });
});
