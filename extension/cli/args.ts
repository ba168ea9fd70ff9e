/**
 * Argument parsing for every `parallel-run` subcommand, on Node's `util.parseArgs`, plus the value
 * checks the subcommands share. Errors are `UsageError`s (exit 2) that name the option and the fix.
 *
 * parseArgs runs with `strict: false` and the strict checks are done here on its tokens, because
 * the GNU conventions the CLI follows need two things its strict mode refuses: a value that starts
 * with a dash (`-j -1`, `--sbatch --qos=high`) and an option whose value is optional (`--halt` alone
 * or `--halt now,fail=1`). Unknown options, missing values and values given to a switch are still
 * refused, with the subcommand's help named.
 */
import { parseArgs } from 'util';
import { UsageError } from '../core/run/types';
import { logicalCores } from '../core/threads';

export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;

/**
 * One option: `string` takes a value, `boolean` is a switch, `optional` is a switch that may take a
 * value inline (`--halt=RULE`) or as the next argument when the subcommand accepts it.
 */
export interface OptionSpec {
  type: 'string' | 'boolean' | 'optional';
  short?: string;
  multiple?: boolean;
}
export type OptionsSpec = Record<string, OptionSpec>;

type ValueOf<O extends OptionSpec> = O['multiple'] extends true
  ? string[]
  : O['type'] extends 'string'
    ? string
    : O['type'] extends 'optional'
      ? string | true
      : boolean;
export type Values<S extends OptionsSpec> = { -readonly [K in keyof S]?: ValueOf<S[K]> };

/** An option as given, in command-line order. */
export interface OptionToken {
  kind: 'option';
  name: string;
  rawName: string;
  /** index in argv */
  index: number;
  value?: string;
  inlineValue?: boolean;
}
export interface PositionalToken {
  kind: 'positional';
  index: number;
  value: string;
}

export interface ParsedCommandLine<S extends OptionsSpec> {
  values: Values<S>;
  /** options and positionals before `--`, in order */
  tokens: Array<OptionToken | PositionalToken>;
  /** everything after the first `--` (undefined when there is none) */
  rest?: string[];
}

/**
 * Parses `argv` against `spec` for `parallel-run <command>`. `hint` ends the unknown-option error
 * (e.g. where a command template goes). Positionals are returned as tokens for the caller to place.
 */
export function parseCommandLine<S extends OptionsSpec>(command: string, argv: string[], spec: S, hint = ''): ParsedCommandLine<S> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries(spec)) options[name] = { type: o.type === 'string' ? 'string' : 'boolean', ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const see = `See "parallel-run ${command} --help"`;
  const values: Record<string, string | boolean | string[]> = {};
  const out: Array<OptionToken | PositionalToken> = [];
  let rest: string[] | undefined;
  for (const t of tokens) {
    if (t.kind === 'option-terminator') {
      rest = argv.slice(t.index + 1);
      break;
    }
    if (t.kind === 'positional') {
      out.push({ kind: 'positional', index: t.index, value: t.value });
      continue;
    }
    const o = spec[t.name];
    if (!o) throw new UsageError(`Unknown option ${t.rawName}. ${see}${hint}.`);
    if (o.type === 'string' && t.value === undefined) throw new UsageError(`${t.rawName} needs a value. ${see}.`);
    if (o.type === 'boolean' && t.value !== undefined) throw new UsageError(`${t.rawName} takes no value (${t.rawName}=${t.value}). ${see}.`);
    const v = o.type === 'string' ? t.value! : o.type === 'optional' ? t.value ?? true : true;
    if (o.multiple) ((values[t.name] ??= []) as string[]).push(v as string);
    else values[t.name] = v;
    out.push({ kind: 'option', name: t.name, rawName: t.rawName, index: t.index, value: t.value, inlineValue: t.inlineValue });
  }
  return { values: values as Values<S>, tokens: out, rest };
}

/** Refuses positionals where a subcommand takes none. */
export function noPositionals(command: string, parsed: ParsedCommandLine<OptionsSpec>): void {
  const p = parsed.tokens.find((t): t is PositionalToken => t.kind === 'positional');
  if (p) throw new UsageError(`Unexpected argument "${p.value}". See "parallel-run ${command} --help".`);
}

export function wholeNumber(flag: string, v: string, min: number): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < min) {
    throw new UsageError(`${flag} needs a whole number${min > 0 ? ` ≥ ${min}` : ''}, not "${v}". E.g. ${flag} ${Math.max(min, 2)}.`);
  }
  return Number(v);
}

export function positive(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} needs a positive number, not "${v}". E.g. ${flag} 60.`);
  return n;
}

export function seconds(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} needs a number of seconds ≥ 0, not "${v}". E.g. ${flag} 60.`);
  return n;
}

/**
 * -j as GNU Parallel reads it: N, +N / -N (cores plus or minus N), or N% of the cores; at least 1
 * worker when relative to the cores (e.g. -j -1 on a 1-core machine).
 */
export function jobsSpec(v: string, cores = logicalCores()): number {
  const t = v.trim();
  let m = /^([+-])(\d+)$/.exec(t);
  if (m) return Math.max(1, cores + (m[1] === '+' ? 1 : -1) * Number(m[2]));
  m = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (m && Number(m[1]) > 0) return Math.max(1, Math.floor((cores * Number(m[1])) / 100));
  if (/^\d+$/.test(t) && Number(t) >= 1) return Number(t);
  throw new UsageError(`-j needs a whole number ≥ 1 (or +N, -N, N% of the ${cores} cores), not "${v}". E.g. -j 2, -j -1, -j 50%.`);
}

/** A size in bytes: a number with an optional K, M, G or T (powers of 1024, either case), e.g. 4G. */
export function byteSize(flag: string, v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(v);
  if (!m) throw new UsageError(`${flag} needs a size such as 4G, 512M or 1.5G (powers of 1024), not "${v}".`);
  return Math.round(Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] || ' ').toLowerCase()));
}

/** The interpreter a subcommand runs: --python, else $PARALLEL_RUN_PYTHON, else python3. */
export function pythonName(flag: string | undefined): string {
  return flag ?? process.env.PARALLEL_RUN_PYTHON ?? 'python3';
}

/** What every subcommand gets from the entry: where the bundle lives. */
export interface CliContext {
  /** the folder of dist/cli.js: workers in ./workers, python helpers in ../media */
  distDir: string;
}

/** Where run directories go when --out is not given (relative to the working directory). */
export const DEFAULT_RUNS_DIR = '.parallel-run/runs';
