/**
 * A runner SIGKILLed while short tasks go to its Python hosts in batches: a task that ended well is
 * recorded by its host at once (completions.log), so a resume runs again only the tasks the kill
 * itself interrupted (at most one per slot), not the ones that had ended but were not journaled yet.
 * PARALLEL_RUN_RESULT_DELAY_MS=1000 holds results a second on their way to the runner, so a kill
 * always finds ended tasks the journal lacks. Two of the files have names that are not UTF-8: they
 * run first, get their exact bytes, and are not run again either. Cold (template) and warm.
 */
import * as assert from 'assert';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fsEncode, nameOfRecord } from '../../extension/core/run/fsNames';
import { CLI, journalLines, PYTHON, tmpDir, waitFor } from './engineHelpers';

const N = 400;
const RAW = [Buffer.from([0x61, 0xff, 0xfe, 0x2e, 0x74]), Buffer.from('caf\xe9.t', 'latin1')];

/** One byte per run appended to marks/<PARALLEL_SEQ>; the bytes of argv[1] in got/<PARALLEL_SEQ>. */
const MARK = `import os, sys
seq = os.environ["PARALLEL_SEQ"]
with open(os.path.join("got", seq), "wb") as f:
    f.write(os.fsencode(sys.argv[1]))
with open(os.path.join("marks", seq), "ab") as f:
    f.write(b"x")
`;

/** The positions ({#}) of the files the journal or the hosts' completions hold as done. */
function doneNow(out: string): Set<number> {
  const done = new Set<number>();
  for (const l of journalLines(out)) if (l.status === 'succeeded') done.add(l.index);
  const file = path.join(out, 'completions.log');
  if (fs.existsSync(file)) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const f = line.split(' ');
      if (f.length < 9 || f[f.length - 6] !== '0') continue;
      try {
        done.add(JSON.parse(f.slice(0, -8).join(' ')).i);
      } catch {
        /* torn */
      }
    }
  }
  return done;
}

/** How many times each file ran, by position. */
function runs(dir: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const f of fs.readdirSync(path.join(dir, 'marks'))) m.set(Number(f), fs.statSync(path.join(dir, 'marks', f)).size);
  return m;
}

describe('SIGKILL of the runner: re-runs on resume', function () {
  this.timeout(240_000);

  for (const mode of ['cold', 'warm'] as const) {
    it(`${mode}: tasks that ended before the kill are not run again (at most one per slot is), raw names included`, async () => {
      const dir = tmpDir('pr-kill-');
      fs.mkdirSync(path.join(dir, 'in'));
      fs.mkdirSync(path.join(dir, 'marks'));
      fs.mkdirSync(path.join(dir, 'got'));
      fs.writeFileSync(path.join(dir, 'mark.py'), MARK);
      const names: Buffer[] = [...RAW.map((r) => Buffer.concat([Buffer.from('in/'), r]))];
      for (let i = names.length; i < N; i++) names.push(Buffer.from(`in/f${String(i).padStart(4, '0')}`));
      for (const n of names) fs.writeFileSync(Buffer.concat([Buffer.from(dir + '/'), n]), '');
      fs.writeFileSync(path.join(dir, 'list'), Buffer.concat(names.flatMap((n) => [n, Buffer.from('\n')])));
      // cold: a few ms a task (shell builtins only), so the tasks go in batches; the same as mark.py
      const what = mode === 'warm' ? ['--warm', '--script', 'mark.py'] : ['--', 'sh', '-c', 'printf %s "$1" > "got/$PARALLEL_SEQ"; printf x >> "marks/$PARALLEL_SEQ"', 'sh', '{}'];
      const args = ['run', '-j', '2', '--files-from', 'list', '--out', 'out', '--quiet'];
      const env = { ...process.env, PARALLEL_RUN_PYTHON: PYTHON, PARALLEL_RUN_RESULT_DELAY_MS: '1000' };
      const child: ChildProcess = spawn(process.execPath, [CLI, ...args, ...what], { cwd: dir, stdio: 'ignore', env });
      const exited = new Promise<void>((r) => child.on('exit', () => r()));
      const out = path.join(dir, 'out');
      // ended, but not journaled: what a kill used to run again, more than one per slot (tasks go in
      // batches when they take under 100 ms; on a machine too loaded for that, the kill comes half-way)
      const journaled = () => new Set(journalLines(out).filter((l) => l.status === 'succeeded').map((l) => l.index));
      let ended = 0;
      const killNow = () => {
        const j = journaled();
        ended = [...runs(dir).keys()].filter((k) => !j.has(k)).length;
        return ended >= 3 || j.size >= N / 2;
      };
      assert.ok(await waitFor(killNow, 120_000, 20), 'tasks ended that the runner had not journaled yet');
      child.kill('SIGKILL');
      await exited;
      await new Promise((r) => setTimeout(r, 500)); // the hosts end what ran
      const doneAtKill = doneNow(out);
      const ranAtKill = runs(dir);
      assert.ok(doneAtKill.size < N, 'killed mid-run');
      const endedNotDone = [...ranAtKill.keys()].filter((k) => !doneAtKill.has(k));
      assert.ok(endedNotDone.length <= 2, `at most one task per slot was cut short by the kill: ${endedNotDone.length}`);

      const r = spawnSync(process.execPath, [CLI, ...args, '--resume', ...what], { cwd: dir, encoding: 'utf8', env: { ...env, PARALLEL_RUN_RESULT_DELAY_MS: '0' } });
      assert.strictEqual(r.status, 0, r.stderr);
      const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
      if (ended >= 3) assert.ok(report.notes.some((n: string) => /journaled from (its|their) worker's record, not run again/.test(n)), report.notes.join('\n'));
      const after = runs(dir);
      assert.strictEqual(after.size, N, 'every file ran');
      const twice = [...after].filter(([, n]) => n > 1).map(([k]) => k);
      assert.ok(twice.length <= 2, `at most one re-run per slot: ${twice.length}`);
      for (const k of twice) assert.ok(!doneAtKill.has(k), 'no file recorded as done ran again');
      // the raw names run first: done before the kill (unless the kill cut one short), then not again
      for (const i of [1, 2]) if (doneAtKill.has(i)) assert.strictEqual(after.get(i), 1, `the raw name ${names[i - 1].toString('hex')} ran once`);
      for (let i = 1; i <= N; i++) assert.ok(fs.readFileSync(path.join(dir, 'got', String(i))).equals(names[i - 1]), `file ${i} got its exact bytes`);
      const ok = journalLines(out).filter((l) => l.status === 'succeeded');
      const perFile = new Map<string, number>();
      for (const l of ok) {
        const k = fsEncode(nameOfRecord(l as never)).toString('hex');
        perFile.set(k, (perFile.get(k) ?? 0) + 1);
      }
      assert.strictEqual(perFile.size, N, 'one success per file in the journal');
      assert.deepStrictEqual([...perFile.values()].filter((c) => c !== 1), []);
      for (const raw of names.slice(0, 2)) assert.strictEqual(perFile.get(raw.toString('hex')), 1, 'a raw name is journaled by its bytes');
      if (ended >= 3) assert.ok(ok.some((l) => l.recovered), 'some lines were recovered from the completions');
      assert.ok(!fs.existsSync(path.join(out, 'completions.log')), 'the completions go once all is journaled');
      fs.rmSync(dir, { recursive: true, force: true });
    });
  }
});
