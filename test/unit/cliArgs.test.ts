/**
 * The CLI's argument parsing (extension/cli/args.ts on util.parseArgs, and `run`'s use of it): GNU
 * conventions that parseArgs' strict mode would refuse, and the clear errors for what is wrong.
 */
import * as assert from 'assert';
import { parseCommandLine } from '../../extension/cli/args';
import { parseRunArgs } from '../../extension/cli/run';
import { UsageError } from '../../extension/core/run/types';

const usage = (re: RegExp) => (e: unknown) => e instanceof UsageError && re.test(e.message);

describe('cli arguments', () => {
  it('values that start with a dash, inline values, short groups and -jN', () => {
    const a = parseRunArgs(['-j', '-1', '--out=o', '-kq0', '--sbatch', '--qos=high', '--backend', 'slurm', '--', 'echo', '{}', ':::', 'x']);
    assert.ok(a.jobs! >= 1);
    assert.strictEqual(a.out, 'o');
    assert.deepStrictEqual([a.keepOrder, a.quiet, a.nul], [true, true, true]);
    assert.deepStrictEqual(a.slurm.slurm.extraDirectives, ['--qos=high']);
    assert.deepStrictEqual(a.rest, ['echo', '{}']);
    assert.deepStrictEqual(a.sources, [{ kind: 'values', values: ['x'], link: false }]);
    assert.strictEqual(parseRunArgs(['-j3', '--', 'true']).jobs, 3);
  });

  it('--halt takes its rule only when the next word reads as one', () => {
    assert.strictEqual(parseRunArgs(['--halt', '--', 'true']).halt, true);
    assert.strictEqual(parseRunArgs(['--halt', 'soon,fail=10%', '--', 'true']).halt, 'soon,fail=10%');
    assert.strictEqual(parseRunArgs(['--halt=now,success=1', '--', 'true']).halt, 'now,success=1');
    assert.throws(() => parseRunArgs(['--halt', 'later,fail=1', '--', 'true']), UsageError);
    // not a rule: the word is a stray argument, not swallowed
    assert.throws(() => parseRunArgs(['--halt', 'wc', '--', 'true']), usage(/Unexpected argument "wc"\. Put the command template after "--"/));
  });

  it('an unquoted --files GLOB the shell expanded: the extra names are more inputs', () => {
    assert.deepStrictEqual(parseRunArgs(['--files', 'a.txt', 'b.txt', '-j', '2', 'c.txt', '--', 'true']).files, ['a.txt', 'b.txt', 'c.txt']);
    assert.throws(() => parseRunArgs(['a.txt', '--files', 'b.txt']), usage(/Unexpected argument "a\.txt"/));
  });

  it('unknown options, missing values and values given to a switch are refused, naming the help', () => {
    assert.throws(() => parseRunArgs(['--frobnicate', '--', 'true']), usage(/^Unknown option --frobnicate\. See "parallel-run run --help"; put the command after "--"\.$/));
    assert.throws(() => parseRunArgs(['-x']), usage(/^Unknown option -x\./));
    assert.throws(() => parseRunArgs(['--files']), usage(/^--files needs a value\. See "parallel-run run --help"\.$/));
    assert.throws(() => parseRunArgs(['--json=yes']), usage(/^--json takes no value \(--json=yes\)/));
    assert.throws(() => parseRunArgs(['--partition', 'p', '--', 'true']), usage(/need --backend slurm/));
    assert.throws(() => parseRunArgs(['--backend', 'pbs', '--', 'true']), usage(/--backend must be "local" or "slurm", not "pbs"/));
    // --help wins over values it would otherwise check
    assert.strictEqual(parseRunArgs(['-h', '-j', '0', '--partition', 'p']).help, true);
  });

  it('a file named like an option after ::: or after -- is not an option', () => {
    const a = parseRunArgs(['--script', 'x.py', ':::', 'a', '--time']);
    assert.deepStrictEqual(a.sources, [{ kind: 'values', values: ['a', '--time'], link: false }]);
    assert.strictEqual(a.slurm.slurm.timeLimit, undefined);
    assert.deepStrictEqual(parseCommandLine('x', ['--', '--json'], { json: { type: 'boolean' } }).rest, ['--json']);
  });
});
