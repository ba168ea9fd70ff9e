/**
 * What a run kills, and how (core/run/runKills.ts), on real processes: the memory gate's victim on a
 * slot (the task's group, or the host for an in-process call), a stop (the flag the workers read,
 * SIGUSR1 to each host, every task group), and the end of the run (killed groups and, after a stop,
 * every process carrying the run's marker; nothing of a run that ended normally).
 */
import * as assert from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RunKills } from '../../extension/core/run/runKills';
import { SESSION_MARKER_VAR } from '../../extension/core/run/watchdog';
import { WORKERS_DIR } from './engineHelpers';

/** A process leading its own group, sleeping until killed. */
function sleeper(env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const c = spawn('/bin/sh', ['-c', 'exec sleep 60'], { detached: true, stdio: 'ignore', env });
  c.unref();
  return c;
}

/** A stand-in Python host: leads its group, writes "ready" to `file` once it listens for SIGUSR1, then "usr1" when it gets it, and exits 0. */
function host(file: string): ChildProcess {
  const c = spawn('/bin/sh', ['-c', `trap 'echo usr1 > "$0"; exit 0' USR1; echo ready > "$0"; while :; do sleep 0.05; done`, file], { detached: true, stdio: 'ignore' });
  c.unref();
  return c;
}

/** Polls until `ok()` (the test's own timeout bounds it). */
async function until(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setTimeout(r, 20));
}

function environ(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return '';
  }
}

function ended(c: ChildProcess): Promise<NodeJS.Signals | number | null> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(c.signalCode ?? c.exitCode);
  return new Promise((r) => c.once('exit', (code, signal) => r(signal ?? code)));
}

function alive(c: ChildProcess): boolean {
  return c.exitCode === null && c.signalCode === null;
}

describe('run kills: what a run kills, on real processes', function () {
  this.timeout(60_000);
  const started: ChildProcess[] = [];
  const track = (c: ChildProcess) => (started.push(c), c);
  afterEach(() => {
    for (const c of started.splice(0)) if (alive(c)) try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ }
  });

  it('the memory gate kills the slot\'s task group, or its host for an in-process call; an empty slot is left alone', async () => {
    const kills = new RunKills(crypto.randomBytes(6).toString('hex'), 2, WORKERS_DIR);
    const task = track(sleeper());
    const slotHost = track(sleeper());
    Atomics.store(kills.shared, 1, task.pid!); // slot 1: its task
    Atomics.store(kills.shared, 2 + 1, slotHost.pid!); // slot 1: its host
    kills.killSlot(2, false); // slot 2 runs nothing
    kills.killSlot(1, false);
    assert.strictEqual(await ended(task), 'SIGTERM');
    assert.ok(alive(slotHost), 'the host stays when the task is known');
    kills.killSlot(1, true); // an in-process call: the task is the host
    assert.strictEqual(await ended(slotHost), 'SIGTERM');
    await kills.end(false);
  });

  it('a stop raises the workers\' flag, asks each host to stop its task (SIGUSR1) and kills every task group', async () => {
    const kills = new RunKills(crypto.randomBytes(6).toString('hex'), 2, WORKERS_DIR);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-runkills-'));
    const usr1 = path.join(dir, 'usr1');
    const hostProc = track(host(usr1));
    const slotTask = track(sleeper());
    const known = track(sleeper());
    Atomics.store(kills.shared, 2, slotTask.pid!); // slot 2's task
    Atomics.store(kills.shared, 2 + 1, hostProc.pid!); // slot 1's host
    await until(() => fs.existsSync(usr1) && fs.readFileSync(usr1, 'utf8').trim() === 'ready');
    assert.strictEqual(Atomics.load(kills.shared, 0), 0);
    kills.stopAll([known.pid!]);
    assert.strictEqual(Atomics.load(kills.shared, 0), 1, 'tasks starting from now on are refused');
    assert.strictEqual(await ended(slotTask), 'SIGTERM');
    assert.strictEqual(await ended(known), 'SIGTERM');
    assert.strictEqual(await ended(hostProc), 0, 'the host ended on its own, told by SIGUSR1');
    assert.strictEqual(fs.readFileSync(usr1, 'utf8').trim(), 'usr1');
    await kills.end(true);
  });

  it('the end of a stopped run kills what carries its marker; a run that ended normally leaves it running', async () => {
    const session = crypto.randomBytes(6).toString('hex');
    const kills = new RunKills(session, 1, WORKERS_DIR);
    assert.strictEqual(kills.marker, `${SESSION_MARKER_VAR}=${session}`);
    const env = { ...process.env, [SESSION_MARKER_VAR]: session };
    const leftBehind = track(sleeper(env));
    await until(() => environ(leftBehind.pid!).includes(kills.marker)); // exec'd with its environment
    assert.strictEqual(await kills.end(false), undefined, 'the run\'s cgroup (if any) was removed');
    assert.ok(alive(leftBehind), 'a normal end leaves a process a task left running on purpose');

    const stopped = new RunKills(session, 1, WORKERS_DIR);
    stopped.refuseNew();
    await stopped.end(true);
    assert.strictEqual(await ended(leftBehind), 'SIGKILL', 'a stop ends everything with the run\'s marker');
  });
});
