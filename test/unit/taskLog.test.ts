/**
 * Opening a task's log: only a regular file whose real path (links resolved) is inside the run's
 * logs folder. A record can be edited and logs/ can hold links: `../` paths, absolute paths and a
 * link from logs/ to a file outside (here a stand-in for /etc/shadow) are refused.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { resolveTaskLog, TaskLogError } from '../../extension/core/run/taskLog';
import { tmpDir } from './engineHelpers';

async function refusal(p: Promise<unknown>): Promise<TaskLogError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TaskLogError, `a TaskLogError, got ${String(err)}`);
    return err;
  }
  throw new Error('expected a refusal, the log was opened');
}

describe('task logs (openLog)', () => {
  let runDir: string;
  let secret: string;

  beforeEach(() => {
    const root = tmpDir('pr-tasklog-');
    runDir = path.join(root, 'run');
    fs.mkdirSync(path.join(runDir, 'logs'), { recursive: true });
    fs.writeFileSync(path.join(runDir, 'logs', '00001.stderr'), 'real log\n');
    secret = path.join(root, 'shadow');
    fs.writeFileSync(secret, 'root:$6$secret\n');
  });

  it('opens a log inside logs/ (its real path)', async () => {
    assert.strictEqual(await resolveTaskLog(runDir, 'logs/00001.stderr'), fs.realpathSync(path.join(runDir, 'logs', '00001.stderr')));
  });

  it('refuses a symbolic link in logs/ that leads outside it', async () => {
    fs.symlinkSync(secret, path.join(runDir, 'logs', '00002.stderr'));
    const e = await refusal(resolveTaskLog(runDir, 'logs/00002.stderr', 'the stderr log of b.txt'));
    assert.strictEqual(e.kind, 'outside');
    assert.match(e.message, /Cannot open the stderr log of b\.txt: .* is outside the run's logs folder/);
    assert.ok(!e.message.includes('shadow'), 'the message does not reveal where the link pointed');
  });

  it('refuses a link to a folder outside (logs/sub -> /) and a link to the run directory itself', async () => {
    fs.symlinkSync(path.dirname(secret), path.join(runDir, 'logs', 'sub'));
    assert.strictEqual((await refusal(resolveTaskLog(runDir, 'logs/sub/shadow'))).kind, 'outside');
    fs.writeFileSync(path.join(runDir, 'run.json'), '{}');
    fs.symlinkSync(path.join(runDir, 'run.json'), path.join(runDir, 'logs', 'def'));
    assert.strictEqual((await refusal(resolveTaskLog(runDir, 'logs/def'))).kind, 'outside');
  });

  it('refuses paths that leave logs/ lexically, absolute paths, empty or missing names, folders', async () => {
    for (const rel of ['../shadow', 'logs/../../shadow', 'run.json', secret, '', undefined, 'logs']) {
      assert.strictEqual((await refusal(resolveTaskLog(runDir, rel))).kind, 'outside', String(rel));
    }
    fs.mkdirSync(path.join(runDir, 'logs', 'dir'));
    assert.strictEqual((await refusal(resolveTaskLog(runDir, 'logs/dir'))).kind, 'outside');
  });

  it('a deleted log, or a dangling link, is "missing" (never where the link pointed)', async () => {
    assert.strictEqual((await refusal(resolveTaskLog(runDir, 'logs/00009.stdout'))).kind, 'missing');
    fs.symlinkSync('/nonexistent/secret/place', path.join(runDir, 'logs', '00003.stderr'));
    const e = await refusal(resolveTaskLog(runDir, 'logs/00003.stderr', 'the log'));
    assert.strictEqual(e.kind, 'missing');
    assert.ok(!e.message.includes('secret/place'));
  });

  it('a log a call never wrote (neverWritten) opens empty; a dangling link, a subfolder or a linked logs/ stay missing', async () => {
    const made = path.join(runDir, 'logs', '00004.out');
    assert.strictEqual(await resolveTaskLog(runDir, 'logs/00004.out', 'the log', { neverWritten: true }), fs.realpathSync(made));
    assert.strictEqual(fs.readFileSync(made, 'utf8'), '');
    assert.strictEqual(await resolveTaskLog(runDir, 'logs/00001.stderr', 'the log', { neverWritten: true }), fs.realpathSync(path.join(runDir, 'logs', '00001.stderr')));
    assert.strictEqual(fs.readFileSync(path.join(runDir, 'logs', '00001.stderr'), 'utf8'), 'real log\n', 'an existing log is left as it is');
    fs.symlinkSync(path.join(path.dirname(runDir), 'nowhere'), path.join(runDir, 'logs', '00005.out'));
    assert.strictEqual((await refusal(resolveTaskLog(runDir, 'logs/00005.out', 'the log', { neverWritten: true }))).kind, 'missing');
    assert.ok(!fs.existsSync(path.join(path.dirname(runDir), 'nowhere')), 'nothing written through a link');
    assert.strictEqual((await refusal(resolveTaskLog(runDir, 'logs/sub/00006.out', 'the log', { neverWritten: true }))).kind, 'missing');
    const elsewhere = path.join(path.dirname(runDir), 'logs-elsewhere');
    fs.renameSync(path.join(runDir, 'logs'), elsewhere);
    fs.symlinkSync(elsewhere, path.join(runDir, 'logs'));
    assert.strictEqual((await refusal(resolveTaskLog(runDir, 'logs/00007.out', 'the log', { neverWritten: true }))).kind, 'missing');
    assert.ok(!fs.existsSync(path.join(elsewhere, '00007.out')));
    assert.strictEqual((await refusal(resolveTaskLog(runDir, 'logs/00008.out'))).kind, 'missing', 'without neverWritten a missing log is missing');
  });

  it('follows a logs/ folder that is itself a link (both sides are resolved)', async () => {
    const elsewhere = path.join(path.dirname(runDir), 'logs-on-scratch');
    fs.renameSync(path.join(runDir, 'logs'), elsewhere);
    fs.symlinkSync(elsewhere, path.join(runDir, 'logs'));
    assert.strictEqual(await resolveTaskLog(runDir, 'logs/00001.stderr'), fs.realpathSync(path.join(elsewhere, '00001.stderr')));
  });
});
