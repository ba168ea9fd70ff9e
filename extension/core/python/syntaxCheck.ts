/**
 * Compiles a Python script in the run's interpreter before anything starts (nothing is executed:
 * `compile()` only), so a syntax error is refused up front instead of failing every file.
 */
import { execFile } from 'child_process';
import * as path from 'path';
import { UsageError } from '../run/types';

/** Where and what the syntax error is. */
export interface SyntaxProblem {
  /** absolute path of the script */
  file: string;
  /** 1-based; 0 when Python did not say */
  line: number;
  /** 1-based column; 0 when unknown */
  column: number;
  /** e.g. "SyntaxError: invalid syntax" */
  message: string;
  /** the offending line of source, when Python gave it */
  text?: string;
}

/** A run refused because its script does not compile; carries the place for an editor to open. */
export class ScriptSyntaxError extends UsageError {
  constructor(readonly problem: SyntaxProblem, python: string) {
    super(
      `Cannot run: ${problem.file}${problem.line ? ` line ${problem.line}` : ''}: ${problem.message} ` +
        `(compiled with ${python} before anything started; nothing ran). Fix the script and run again.`,
    );
    this.name = 'ScriptSyntaxError';
  }
}

// compile() checks the whole file (tokenizer, parser, compiler) without running a line of it
const CHECK = [
  'import json, sys',
  'p = sys.argv[1]',
  'try:',
  '    compile(open(p, "rb").read(), p, "exec", dont_inherit=True)',
  'except (SyntaxError, ValueError) as e:',
  '    print(json.dumps({"type": type(e).__name__, "msg": getattr(e, "msg", None) or str(e), "line": getattr(e, "lineno", None) or 0,',
  '        "column": getattr(e, "offset", None) or 0, "text": getattr(e, "text", None)}))',
  '    sys.exit(3)',
].join('\n');

/** What Python said of a syntax error ({type, msg, line, column, text}, as CHECK prints it) as a problem of `file`. */
export function syntaxProblem(r: { type: string; msg: string; line: number; column: number; text: string | null }, file: string): SyntaxProblem {
  return {
    file,
    line: Number(r.line) || 0,
    column: Number(r.column) || 0,
    message: `${r.type}: ${r.msg}`,
    ...(r.text ? { text: r.text.replace(/\s+$/, '') } : {}),
  };
}

/**
 * The script's syntax error, or undefined when it compiles (or when the interpreter could not be run
 * for the check: the run itself then says what is wrong).
 */
export function checkPythonSyntax(python: string, script: string, cwd: string): Promise<SyntaxProblem | undefined> {
  return new Promise((resolve) => {
    execFile(
      python,
      ['-I', '-c', CHECK, script],
      // -I: no user site, no PYTHON* variables, no script folder on sys.path (nothing of the user's runs)
      { cwd, timeout: 60_000, maxBuffer: 1 << 20, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
      (err, stdout) => {
        if (!err || (err as { code?: unknown }).code !== 3) return resolve(undefined);
        try {
          resolve(syntaxProblem(JSON.parse(String(stdout).trim().split('\n').pop() ?? ''), path.resolve(cwd, script)));
        } catch {
          resolve(undefined);
        }
      },
    );
  });
}

/** In a command template, the script a Python interpreter runs (`python3 analyze.py {}`), if any. */
export function templatePythonScript(argv: string[]): { python: string; script: string } | undefined {
  if (argv.length < 2 || !/^python[\d.]*$/.test(path.basename(argv[0]))) return undefined;
  // options before the script (-u, -O, -X dev...); -m/-c run no script file
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-m' || a === '-c' || a.startsWith('-m') || a.startsWith('-c')) return undefined;
    if (a === '-X' || a === '-W') {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return a.includes('{') || !a.endsWith('.py') ? undefined : { python: argv[0], script: a };
  }
  return undefined;
}
