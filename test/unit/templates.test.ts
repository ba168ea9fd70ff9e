/**
 * GNU Parallel replacement strings: a table of hostile names with the expansions written out by
 * hand, the same table checked against the real GNU Parallel (installed here), validation of unknown
 * replacement strings, and "no replacement string → file appended".
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { basename, dirname, expandTemplate, hasReplacement, removeExtension, validateTemplate } from '../../extension/core/run/templates';
import { UsageError } from '../../extension/core/run/types';

// input → [{.}, {/}, {//}, {/.}]
const TABLE: Array<[string, [string, string, string, string]]> = [
  ['plain.txt', ['plain', 'plain.txt', '.', 'plain']],
  ['dir/sub/file.tar.gz', ['dir/sub/file.tar', 'file.tar.gz', 'dir/sub', 'file.tar']],
  ['sp ace/na me.txt', ['sp ace/na me', 'na me.txt', 'sp ace', 'na me']],
  ["quo'te.txt", ["quo'te", "quo'te.txt", '.', "quo'te"]],
  ['dq"uote.csv', ['dq"uote', 'dq"uote.csv', '.', 'dq"uote']],
  ['semi;rm -rf x.txt', ['semi;rm -rf x', 'semi;rm -rf x.txt', '.', 'semi;rm -rf x']],
  ['$(touch pwned).txt', ['$(touch pwned)', '$(touch pwned).txt', '.', '$(touch pwned)']],
  ['`id`.txt', ['`id`', '`id`.txt', '.', '`id`']],
  ['new\nline.txt', ['new\nline', 'new\nline.txt', '.', 'new\nline']],
  // Perl's `.` does not match a newline: GNU Parallel's {/} keeps what is before it
  ['a\nb/c.d/e.f', ['a\nb/c.d/e', 'a\ne.f', 'a\nb/c.d', 'a\ne']],
  ['ünï çødé.dat', ['ünï çødé', 'ünï çødé.dat', '.', 'ünï çødé']],
  ['-rf', ['-rf', '-rf', '.', '-rf']],
  ['--help.txt', ['--help', '--help.txt', '.', '--help']],
  ['.hidden', ['', '.hidden', '.', '']],
  ['dir.x/noext', ['dir.x/noext', 'noext', 'dir.x', 'noext']],
  ['x.y/', ['x.y/', '', '.', '']],
  ['a//b.c', ['a//b', 'b.c', 'a', 'b']],
  ['/abs/p.tar.gz', ['/abs/p.tar', 'p.tar.gz', '/abs', 'p.tar']],
  ['/top', ['/top', 'top', '/', 'top']],
  ['trailing.', ['trailing', 'trailing.', '.', 'trailing']],
  ['{}.txt', ['{}', '{}.txt', '.', '{}']],
  ['d/{.}{#}.x', ['d/{.}{#}', '{.}{#}.x', 'd', '{.}{#}']],
];

describe('templates: GNU Parallel replacement strings', () => {
  for (const [input, [noExt, base, dir, baseNoExt]] of TABLE) {
    it(`expands ${JSON.stringify(input)}`, () => {
      assert.strictEqual(removeExtension(input), noExt, '{.}');
      assert.strictEqual(basename(input), base, '{/}');
      assert.strictEqual(dirname(input), dir, '{//}');
      const argv = expandTemplate(['cmd', '{}', '{.}', '{/}', '{//}', '{/.}', '{#}', '{%}', 'out/{/.}.json', '--in={}'], input, 7, 2);
      assert.deepStrictEqual(argv, ['cmd', input, noExt, base, dir, baseNoExt, '7', '2', `out/${baseNoExt}.json`, `--in=${input}`]);
    });
  }

  it('agrees with the real GNU Parallel on every name of the table', function () {
    this.timeout(60_000); // GNU Parallel starts a shell per job
    const names = TABLE.map(([n]) => n);
    // (GNU Parallel hands the command to a shell, so printf's "\\0" needs one more backslash)
    const r = spawnSync('parallel', ['-0', '-k', '-j1', '--will-cite', 'printf', '%s\\\\0', '{}', '{.}', '{/}', '{//}', '{/.}', '{#}', '{%}'], { input: names.join('\0') + '\0', encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    const fields = r.stdout.split('\0').slice(0, -1);
    assert.strictEqual(fields.length, names.length * 7);
    names.forEach((n, i) => {
      const ours = expandTemplate(['{}', '{.}', '{/}', '{//}', '{/.}', '{#}', '{%}'], n, i + 1, 1);
      assert.deepStrictEqual(ours, fields.slice(i * 7, i * 7 + 7), JSON.stringify(n));
    });
  });

  it('appends the file when no replacement string is given, as GNU Parallel does', () => {
    assert.deepStrictEqual(expandTemplate(['wc', '-l'], 'a b.txt', 1, 1), ['wc', '-l', 'a b.txt']);
    assert.deepStrictEqual(expandTemplate(['echo', '{#}'], 'x', 3, 1), ['echo', '3'], '{#} alone counts as a replacement string');
    assert.strictEqual(hasReplacement(['{"json": 1}', '{name}']), false);
  });

  it('rejects unknown replacement strings with the supported list, accepts literal braces', () => {
    for (const bad of ['{..}', '{/..}', '{1}', '{+/}', '{==}', 'x{...}y']) {
      assert.throws(() => validateTemplate(['echo', bad]), (e: Error) => e instanceof UsageError && /Unknown replacement string/.test(e.message) && /\{\/\.\}/.test(e.message), bad);
    }
    assert.doesNotThrow(() => validateTemplate(['jq', '{"a": .b}', '{name}', '{}']));
    assert.throws(() => validateTemplate([]), /No command given/);
  });
});
