/**
 * The one command wrapper (extension/host/commands.ts): every command is registered through it, the
 * commands that start processes are exactly those it checks trust for, and its error policy — a caller
 * with an argument object gets a rejection, a user gets the message (with its title) and undefined, a
 * refusal for trust comes before the handler's module is even loaded — watched through a recording
 * policy. (The untrusted launch checks the real refusals of every command.)
 */
import * as assert from 'assert';
import * as vscode from 'vscode';
import { isProgrammatic, lazy, refusalOf, wrapCommand, type CommandPolicy } from '../../extension/host/commands';
import { Commands, TRUST_REQUIRED_COMMANDS } from '../../extension/shared/ids';
import { services } from './runHelpers';

/** A policy that records what it would have shown, logged and asked. */
function recording(trusted: boolean) {
  const seen = { shown: [] as string[], logged: [] as string[], asked: [] as string[] };
  const policy: CommandPolicy = {
    trusted: (what) => {
      seen.asked.push(what);
      return trusted;
    },
    show: (err, title) => seen.shown.push(`${title ? `${title}: ` : ''}${(err as Error).message}`),
    log: (m) => seen.logged.push(m),
  };
  return { policy, seen };
}

describe('commands: one wrapper, one trust check, one error policy', () => {
  before(async () => {
    await services(); // the extension is active
  });

  it('every command id is registered (through the wrapper: no feature registers its own)', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    for (const id of Object.values(Commands)) assert.ok(all.has(id), `${id} is registered`);
  });

  it('exactly the commands that start processes are refused when untrusted, each naming what it would do', () => {
    for (const id of Object.values(Commands)) {
      const what = refusalOf(id);
      if (TRUST_REQUIRED_COMMANDS.includes(id)) assert.ok(what && /^[a-z]/.test(what), `${id} names what is refused`);
      else assert.strictEqual(what, undefined, `${id} runs nothing: never refused`);
    }
  });

  it('an argument object makes a call programmatic; a Uri, a selection or a Runs view node does not', () => {
    assert.strictEqual(isProgrammatic({ runDir: '/x' }), true);
    assert.strictEqual(isProgrammatic(vscode.Uri.file('/x.py')), false);
    assert.strictEqual(isProgrammatic([vscode.Uri.file('/x.py')]), false);
    assert.strictEqual(isProgrammatic({ contextValue: 'run', runDir: '/x' }), false);
    assert.strictEqual(isProgrammatic(undefined), false);
    assert.strictEqual(isProgrammatic('/a/run'), false);
  });

  it('an error: a caller with arguments gets the rejection (nothing shown); a user gets the titled message and undefined', async () => {
    const { policy, seen } = recording(true);
    const fail = wrapCommand(Commands.applyRecommendation, () => {
      throw new Error('the sweep has no recommendation; measure again');
    }, policy, { title: 'Apply' });
    await assert.rejects(Promise.resolve(fail({ sweepDir: '/nowhere' })), /the sweep has no recommendation; measure again/);
    assert.deepStrictEqual(seen.shown, [], 'a caller is not shown the error it gets');
    assert.strictEqual(await fail(), undefined);
    assert.deepStrictEqual(seen.shown, ['Apply: the sweep has no recommendation; measure again']);
    assert.deepStrictEqual(seen.logged, ['Apply: the sweep has no recommendation; measure again', 'Apply: the sweep has no recommendation; measure again'], 'each failure is logged once');
    assert.deepStrictEqual(seen.asked, [], 'a command that starts nothing does not ask for trust');
  });

  it('untrusted: refused before the handler module loads, with the same words for a caller (rejection) and a user (nothing more shown)', async () => {
    const { policy, seen } = recording(false);
    let loads = 0;
    const cmd = wrapCommand(Commands.measureSpeedup, lazy(async () => {
      loads++;
      return async () => undefined;
    }), policy, { title: 'Measure Speedup' });
    await assert.rejects(Promise.resolve(cmd({ script: 'x.py' })), (err: Error) => {
      assert.strictEqual(err.name, 'NotTrustedError');
      assert.match(err.message, /^Parallel Run cannot measure speedup: this workspace is not trusted/);
      assert.match(err.message, /Trust it with "Manage Workspace Trust"/);
      return true;
    });
    assert.strictEqual(await cmd(vscode.Uri.file('/x.py')), undefined, 'a user: resolves quietly (requireTrust showed the warning)');
    assert.strictEqual(loads, 0, 'the handler module was never loaded');
    assert.deepStrictEqual(seen.asked, ['measure speedup', 'measure speedup']);
    assert.deepStrictEqual(seen.shown, [], 'the refusal is not shown a second time as an error');
    assert.deepStrictEqual(seen.logged, [], 'requireTrust logs the refusal itself');
  });

  it('a lazy handler loads once, on the first call; a failed load is tried again', async () => {
    const { policy } = recording(true);
    let loads = 0;
    let fail = true;
    const cmd = wrapCommand(Commands.refreshRuns, lazy(async () => {
      loads++;
      if (fail) throw new Error('chunk missing');
      return () => true;
    }), policy);
    assert.strictEqual(await cmd(), undefined, 'the failed load is reported like any error');
    fail = false;
    assert.strictEqual(await cmd(), true);
    assert.strictEqual(await cmd(), true);
    assert.strictEqual(loads, 2, 'loaded again after the failure, then kept');
  });

  it('a run cancelled by the user (AbortError) is no error', async () => {
    const { policy, seen } = recording(true);
    const cmd = wrapCommand(Commands.matrixDemo, () => {
      const e = new Error('aborted');
      e.name = 'AbortError';
      throw e;
    }, policy);
    assert.strictEqual(await cmd({ show: false }), undefined);
    assert.deepStrictEqual([seen.shown, seen.logged], [[], []]);
  });

  it('the real commands follow it: a bad argument object rejects naming the problem', async () => {
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand(Commands.measureSpeedup, { script: 'no-such-script.py', files: ['data/*.txt'], show: false })),
      /no-such-script\.py does not exist\. Pick an existing Python script/,
    );
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand(Commands.copyFileList, {})), /Copy the File List needs a run/);
  });
});
