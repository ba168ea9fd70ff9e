/**
 * GNU Parallel replacement strings with exactly GNU Parallel's meaning (its default --rpl table):
 *   {}   the input               {.}  without extension  s:\.[^/.]*$::
 *   {/}  basename  s:.*\/::      {//} dirname (Perl File::Basename)
 *   {/.} basename without ext    {#}  sequence number (1-based)   {%} job slot (1-based)
 * Values are substituted into argv elements verbatim: there is no shell, so no quoting and no injection.
 * If no argv element holds a replacement string the input is appended as the last argument.
 */
import { UsageError } from './types';

export const REPLACEMENT_STRINGS = ['{}', '{.}', '{/}', '{//}', '{/.}', '{#}', '{%}'] as const;

// A token that looks like a GNU Parallel replacement string: braces around nothing but the
// punctuation/digits/'+' GNU Parallel uses ({..}, {1}, {+/}, {= =} ...). `{"json": 1}` or `{name}` are literal.
const TOKEN = /\{[./#%+0-9=]*\}/g;

/** `s:.*\/::` — Perl's `.` does not match "\n", so neither may ours. */
export function basename(input: string): string {
  return input.replace(/[^\n]*\//, '');
}

/** `s:\.[^/.]*$::` */
export function removeExtension(input: string): string {
  return input.replace(/\.[^/.]*$/, '');
}

/** Perl File::Basename::fileparse → (dirpath with trailing "/", basename). */
function fileparse(p: string): [string, string] {
  const i = p.lastIndexOf('/');
  return i < 0 ? ['./', p] : [p.slice(0, i + 1), p.slice(i + 1)];
}

/** Perl File::Basename::dirname on Unix: "a/b/" → "a", "x" → ".", "/" → "/", "a//b" → "a". */
export function dirname(p: string): string {
  const strip = (d: string) => d.replace(/(.)\/*$/s, '$1');
  let [dir, base] = fileparse(p);
  dir = strip(dir);
  if (base.length === 0) {
    [dir, base] = fileparse(dir);
    dir = strip(dir);
  }
  return dir;
}

/** Throws a UsageError for replacement-string look-alikes GNU Parallel would expand but we do not. */
export function validateTemplate(argv: string[]): void {
  if (argv.length === 0) {
    throw new UsageError('No command given. Put the command template after "--", e.g. parallel-run run --files "*.txt" -- wc -l {}');
  }
  if (argv[0] === '') throw new UsageError('The command template starts with an empty program name. Give the program to run after "--".');
  for (const arg of argv) {
    for (const m of arg.matchAll(TOKEN)) {
      if (!(REPLACEMENT_STRINGS as readonly string[]).includes(m[0])) {
        throw new UsageError(
          `Unknown replacement string ${m[0]} in "${arg}". Supported: ${REPLACEMENT_STRINGS.join(' ')} (as in GNU Parallel).`,
        );
      }
    }
  }
}

/** True when some argv element contains a replacement string (else the file is appended). */
export function hasReplacement(argv: string[]): boolean {
  return argv.some((a) => REPLACEMENT_STRINGS.some((r) => a.includes(r)));
}

/** The argv of one task: every replacement string expanded, or the input appended when there is none. */
export function expandTemplate(argv: string[], input: string, seq: number, slot: number): string[] {
  if (!hasReplacement(argv)) return [...argv, input];
  return argv.map((a) => (a.includes('{') ? expandOne(a, input, seq, slot) : a));
}

function expandOne(arg: string, input: string, seq: number, slot: number): string {
  // one pass, longest alternatives first, so a value containing "{}" is never re-expanded
  return arg.replace(/\{\/\/\}|\{\/\.\}|\{\/\}|\{\.\}|\{#\}|\{%\}|\{\}/g, (tok) => {
    switch (tok) {
      case '{}': return input;
      case '{.}': return removeExtension(input);
      case '{/}': return basename(input);
      case '{//}': return dirname(input);
      case '{/.}': return removeExtension(basename(input));
      case '{#}': return String(seq);
      case '{%}': return String(slot);
      default: return tok;
    }
  });
}
