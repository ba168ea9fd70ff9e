/**
 * Source analysis of Python scripts for the editor features (code lenses, diagnostics, quick fixes).
 *
 * The parsing is Python's own `ast`, run by the real interpreter in ONE long-lived process
 * (`media/python/analyze_source.py --serve`) that answers one JSON request per line, so an analysis
 * costs a parse, not an interpreter start. Everything here is pure Node (no `vscode`): the host
 * turns these findings into lenses, diagnostics and WorkspaceEdits, and unit tests check them on
 * fixtures without VS Code.
 */
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { resolvePython } from './interpreter';
import { assertMayStartProcess } from '../processGate';
import { THREAD_ENV_VARS } from '../threads';
import { RunReport } from '../run/types';
import { listRuns, readReport } from '../run/history';

// ---------------------------------------------------------------- the findings model (analyzer JSON)

/** 0-based line, UTF-16 column (what VS Code and LSP use). */
export interface SourcePosition { line: number; character: number }
export interface SourceRange { start: SourcePosition; end: SourcePosition }
export interface SourceTextEdit { range: SourceRange; newText: string }

/** A file a quick fix creates beside the analysed source (or appends to, when it exists). */
export interface SourceFixFile {
  /** file name, in the folder of the analysed file */
  name: string;
  /** the whole file, when it does not exist yet */
  text: string;
  /** what to append when it exists */
  appendText: string;
}

/** A quick fix: edits computed by the analyzer, applied as they are. */
export interface SourceFix { title: string; edits: SourceTextEdit[]; isPreferred?: boolean; files?: SourceFixFile[] }

export type DiagnosticCode = 'PR001' | 'PR002' | 'PR003' | 'PR004' | 'PR005' | 'PR006';
export type SourceSeverity = 'error' | 'warning' | 'information';

export interface SourceDiagnostic {
  code: DiagnosticCode;
  severity: SourceSeverity;
  range: SourceRange;
  message: string;
  fixes: SourceFix[];
}

/** Where a script starts: its `if __name__ == "__main__":`, its `def main`, or its first top-level work. */
export interface EntryPoint {
  kind: 'mainGuard' | 'mainFunction' | 'topLevel';
  range: SourceRange;
  line: number;
  readsArgv: boolean;
  usesArgparse: boolean;
  /**
   * How the script takes an input, which "Run over files in parallel" needs: it reads sys.argv, has
   * an argparse positional, or calls `main(path)` from its `__main__` block; null when it takes none.
   */
  takesInput: 'argv' | 'argparse' | 'main' | null;
}

/** The multiprocessing start method in effect for the module. */
export interface StartMethodInfo {
  method: string;
  /** in words: `the default on macOS`, `set with set_start_method on line 4` */
  why: string;
  /** 0-based line where the code sets it, or null for the platform default */
  line: number | null;
  source: 'code' | 'default';
}

/** How many processes a pool constructor (or a Process in a loop) starts. `value` null = not known statically. */
export interface ProcessesArg {
  value: number | null;
  source: 'literal' | 'default' | 'cpuCount' | 'expression' | 'unknown' | 'loop' | 'single';
  /** the argument as written, when there is one */
  text: string | null;
  /** where the argument is (the right-size quick fix replaces it) */
  argRange?: SourceRange;
}

export interface PoolFinding {
  kind: 'Pool' | 'ProcessPoolExecutor' | 'Process';
  /** the constructor call */
  range: SourceRange;
  /** line of the statement holding the call (where the lens goes) */
  line: number;
  /** the constructor as written, e.g. `multiprocessing.Pool` */
  text: string;
  processes: ProcessesArg;
}

/** BLAS threads limited by the script itself (env before import, or threadpoolctl). */
export interface ScriptThreadLimit {
  value: number | null;
  source: 'env' | 'threadpoolctl';
  line: number;
  var?: string;
}

export interface LoopRewrite {
  kind: 'pool' | 'main';
  title: string;
  /** present when the rewrite is possible */
  edits?: SourceTextEdit[];
  /** why it is not, in words for the user */
  unavailable?: string;
}

export interface FileLoop {
  /** `target in iter` of the for statement */
  range: SourceRange;
  line: number;
  target: string;
  iter: string;
  rewrites: LoopRewrite[];
}

export interface SourceAnalysis {
  protocol: number;
  syntaxError?: { message: string; line: number; character: number };
  entryPoint: EntryPoint | null;
  pools: PoolFinding[];
  threadLimit: ScriptThreadLimit | null;
  fileLoops: FileLoop[];
  diagnostics: SourceDiagnostic[];
  /** absent when the source does not parse */
  startMethod?: StartMethodInfo;
}

export interface AnalyzeOptions {
  /** logical cores, used for `Pool()` / `os.cpu_count()` */
  cores: number;
  /** thread variables the BLAS-limit quick fix sets (default: core/threads THREAD_ENV_VARS) */
  threadEnvVars?: readonly string[];
  /** the source is a notebook's code cells joined (no file, no `__main__` guard; PR006 instead of PR001) */
  notebook?: boolean;
  /** PR006's "Move to a module": the module's name (default notebook_workers) */
  workersModule?: string;
  /** platform and Python version whose default start method applies (default: the analyzing interpreter's) */
  platform?: string;
  pythonVersion?: [number, number];
}

/** The five diagnostics: short names and the anchors of their explanation in media/docs/diagnostics.md. */
export const DIAGNOSTIC_INFO: Record<DiagnosticCode, { name: string; heading: string }> = {
  PR001: { name: 'Process pool created at module level without a __main__ guard', heading: '## PR001' },
  PR002: { name: 'Pool neither used with `with` nor closed and joined', heading: '## PR002' },
  PR003: { name: 'apply_async result never fetched with .get()', heading: '## PR003' },
  PR004: { name: 'Lambda or nested function passed to a process pool', heading: '## PR004' },
  PR005: { name: 'numpy/scipy imported before BLAS thread limits', heading: '## PR005' },
  PR006: { name: 'Function defined in a notebook passed to a process pool', heading: '## PR006' },
};

/** Relative path (from the extension root) of the diagnostics explanation page. */
export const DIAGNOSTICS_DOC = path.join('media', 'docs', 'diagnostics.md');

/** Analyzer script path, relative to the extension's media/ folder. */
export const ANALYZER_SCRIPT = path.join('python', 'analyze_source.py');

/**
 * 1-based line of each code's heading in the explanation page, for a `file:///…#L<line>` link that
 * VS Code opens at the right place. Codes without a heading map to line 1.
 */
export function diagnosticDocLines(markdown: string): Record<DiagnosticCode, number> {
  const lines = markdown.split(/\r\n|\r|\n/);
  const out = {} as Record<DiagnosticCode, number>;
  for (const code of Object.keys(DIAGNOSTIC_INFO) as DiagnosticCode[]) {
    const i = lines.findIndex((l) => l.startsWith(DIAGNOSTIC_INFO[code].heading));
    out[code] = i >= 0 ? i + 1 : 1;
  }
  return out;
}

// ---------------------------------------------------------------- applying edits (tests, previews)

/**
 * Applies non-overlapping edits (0-based lines, UTF-16 columns) to `source`, as VS Code would.
 * Throws a RangeError for a position outside the text or overlapping edits.
 */
export function applySourceEdits(source: string, edits: readonly SourceTextEdit[]): string {
  const starts = [0];
  const re = /\r\n|\r|\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(source))) starts.push(m.index + m[0].length);
  const offset = (p: SourcePosition): number => {
    if (p.line < 0 || p.line >= starts.length) throw new RangeError(`edit position line ${p.line} is outside the text (${starts.length} lines)`);
    const lineEnd = p.line + 1 < starts.length ? starts[p.line + 1] : source.length;
    const o = starts[p.line] + p.character;
    if (o > lineEnd) throw new RangeError(`edit position ${p.line}:${p.character} is past the end of its line`);
    return o;
  };
  const spans = edits
    .map((e) => ({ s: offset(e.range.start), e: offset(e.range.end), t: e.newText }))
    .sort((a, b) => a.s - b.s || a.e - b.e);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i].s < spans[i - 1].e) throw new RangeError('overlapping edits');
  }
  let out = '';
  let at = 0;
  for (const sp of spans) {
    out += source.slice(at, sp.s) + sp.t;
    at = sp.e;
  }
  return out + source.slice(at);
}

// ---------------------------------------------------------------- thread picture

export interface BlasThreadsAssumption {
  /** BLAS threads one process starts when nothing limits it */
  threads: number;
  /** where the number comes from, for the lens tooltip */
  source: string;
}

/**
 * BLAS threads per process when the script sets no limit: the BLAS inspector's measured value when
 * given, else the thread variables of `env`, else OpenBLAS's default of one thread per logical core.
 */
export function assumedBlasThreads(cores: number, env: Record<string, string | undefined>, inspected?: { threads: number; library?: string }): BlasThreadsAssumption {
  if (inspected && inspected.threads > 0) {
    return { threads: inspected.threads, source: `measured by the BLAS inspector${inspected.library ? ` (${inspected.library})` : ''}` };
  }
  // a BLAS library's own variable wins over OpenMP's (as OpenBLAS and MKL read them); numexpr's is not BLAS
  for (const v of [...THREAD_ENV_VARS.filter((x) => x !== 'OMP_NUM_THREADS' && x !== 'NUMEXPR_NUM_THREADS'), 'OMP_NUM_THREADS']) {
    const n = Number.parseInt(env[v] ?? '', 10);
    if (n > 0) return { threads: n, source: `${v}=${n} in the environment` };
  }
  return { threads: cores, source: `assumed: OpenBLAS default of one thread per logical core (${cores}); run "Parallel Run: Inspect BLAS Threads" to measure` };
}

export interface ThreadPicture {
  title: string;
  tooltip: string;
  processes: number | null;
  threadsPerProcess: number;
  /** processes × threads / cores; null when processes are unknown */
  oversubscription: number | null;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function fmtRatio(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

/**
 * The lens text `4 processes × 8 BLAS threads on 8 cores — oversubscribed ×4` for one pool, with a
 * tooltip that says where each number comes from.
 */
export function threadPicture(pool: PoolFinding, cores: number, blas: BlasThreadsAssumption, limit: ScriptThreadLimit | null): ThreadPicture {
  const p = pool.processes.value;
  const limited = limit && limit.value !== null && limit.value > 0 ? limit.value : null;
  const t = limited ?? blas.threads;
  const procText = p === null ? `? processes${pool.processes.text ? ` (${pool.processes.text})` : ''}` : plural(p, 'process', 'processes');
  let verdict = '';
  let ratio: number | null = null;
  if (p !== null) {
    ratio = (p * t) / cores;
    if (ratio > 1) verdict = ` — oversubscribed ×${fmtRatio(ratio)}`;
    else if (ratio === 1) verdict = ' — every core busy';
    else verdict = ` — ${plural(cores - p * t, 'core')} idle`;
  }
  const title = `${procText} × ${plural(t, 'BLAS thread')} on ${plural(cores, 'core')}${verdict}`;
  const procWhy: Record<ProcessesArg['source'], string> = {
    literal: `processes = ${pool.processes.text}`,
    default: `no processes argument: the pool starts os.cpu_count() = ${cores}`,
    cpuCount: `${pool.processes.text} = ${p} on this machine`,
    expression: `${pool.processes.text} = ${p}`,
    unknown: `${pool.processes.text ?? 'the argument'} is only known at run time`,
    loop: `${p} Process objects started in a loop`,
    single: 'one Process',
  };
  const threadWhy = limited !== null
    ? `the script limits BLAS to ${limited} (${limit!.source === 'env' ? `${limit!.var ?? 'env'} on line ${limit!.line + 1}` : `threadpoolctl on line ${limit!.line + 1}`})`
    : blas.source;
  const advice = ratio !== null && ratio > 1
    ? `\nFix: one BLAS thread per process (set OMP_NUM_THREADS/OPENBLAS_NUM_THREADS=1 before importing numpy, or threadpoolctl), or fewer processes.`
    : '';
  const tooltip = `${pool.text}: ${procWhy[pool.processes.source]}.\nBLAS threads per process: ${threadWhy}.\nCores: ${cores} logical.${advice}`;
  return { title, tooltip, processes: p, threadsPerProcess: t, oversubscription: ratio };
}

/**
 * The "right number" quick fix for a pool whose literal process count oversubscribes the cores:
 * processes × BLAS threads per process above the cores → cores ÷ threads (at least 1). Undefined when
 * the count is not a literal or does not oversubscribe.
 */
export function rightSizeFix(pool: PoolFinding, cores: number, blas: BlasThreadsAssumption, limit: ScriptThreadLimit | null): SourceFix | undefined {
  const p = pool.processes;
  if (pool.kind === 'Process' || p.source !== 'literal' || p.value === null || !p.argRange) return undefined;
  const pic = threadPicture(pool, cores, blas, limit);
  if (pic.oversubscription === null || pic.oversubscription <= 1) return undefined;
  const t = pic.threadsPerProcess;
  const n = Math.max(1, Math.floor(cores / t));
  if (n === p.value) return undefined;
  const why = t > 1 ? `${plural(cores, 'core')} ÷ ${plural(t, 'BLAS thread')} per process` : `one per core on ${plural(cores, 'core')}`;
  return {
    title: `Use ${plural(n, 'process', 'processes')} (${why}; ${p.value} oversubscribe ×${fmtRatio(pic.oversubscription)})`,
    edits: [{ range: p.argRange, newText: String(n) }],
    isPreferred: true,
  };
}

// ---------------------------------------------------------------- last run of a script

export interface ScriptRunStats {
  runId: string;
  runDir: string;
  medianTaskMs: number;
  tasks: number;
  endedAt: number | null;
}

/** Median wall time of the succeeded tasks of a report (all tasks when none succeeded); null when empty. */
export function medianTaskMs(report: Pick<RunReport, 'tasks'>): number | null {
  const ok = report.tasks.filter((t) => t.status === 'succeeded');
  const xs = (ok.length ? ok : report.tasks).map((t) => t.wallMs).sort((a, b) => a - b);
  if (!xs.length) return null;
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

function reportRunsScript(report: RunReport, script: string): boolean {
  const norm = path.resolve(script);
  if (report.command.kind === 'python') return path.resolve(report.cwd || '/', report.command.script) === norm;
  return report.command.argv.some((a) => path.resolve(report.cwd || '/', a) === norm);
}

/**
 * The most recent run of `script` in `runsDir` that has finished tasks (engine history: newest
 * first), with its median task time; undefined when the script never ran there.
 */
export async function latestRunOfScript(runsDir: string, script: string): Promise<ScriptRunStats | undefined> {
  const base = path.basename(script);
  for (const summary of await listRuns(runsDir)) {
    // the summary's command label names the script's file: skip other scripts' runs without reading their reports
    if (!/["\\]/.test(base) && !summary.commandLabel.includes(base)) continue;
    const report = await readReport(summary.runDir);
    if (!report || !report.command || !reportRunsScript(report, script)) continue;
    const median = medianTaskMs(report);
    if (median === null) continue;
    return { runId: report.runId, runDir: summary.runDir, medianTaskMs: median, tasks: report.tasks.length, endedAt: report.endedAt };
  }
  return undefined;
}

// ---------------------------------------------------------------- the analyzer process

export interface SourceAnalyzerOptions {
  /** Real interpreter executable (resolved, not a shim). */
  python: string;
  /** Absolute path of analyze_source.py */
  script: string;
  /** Per-request timeout (default 20 s). */
  timeoutMs?: number;
  /** Diagnostic log (process starts, crashes). */
  log?: (message: string) => void;
}

interface Pending {
  resolve: (r: SourceAnalysis) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Client of the long-lived analyzer process: one JSON request per line on stdin, one response per
 * line on stdout. Started on first use, restarted after a crash (at most 3 restarts a minute), killed
 * with its process group on dispose().
 */
export class SourceAnalyzer {
  private child: ChildProcess | undefined;
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly crashes: number[] = [];
  private disposed = false;
  private stderrTail = '';

  constructor(private readonly opts: SourceAnalyzerOptions) {}

  /** Analyze one source text. Rejects with a message naming the interpreter when the analyzer cannot run. */
  analyze(source: string, options: AnalyzeOptions): Promise<SourceAnalysis> {
    if (this.disposed) return Promise.reject(new Error('The Python source analyzer was shut down.'));
    let child: ChildProcess;
    try {
      child = this.ensureChild();
    } catch (err) {
      return Promise.reject(err);
    }
    const id = this.nextId++;
    const request = { id, method: 'analyze', source, options: { threadEnvVars: THREAD_ENV_VARS, ...options } };
    return new Promise<SourceAnalysis>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`The Python source analyzer did not answer within ${(this.opts.timeoutMs ?? 20_000) / 1000} s.`));
      }, this.opts.timeoutMs ?? 20_000);
      this.pending.set(id, { resolve, reject, timer });
      child.stdin!.write(JSON.stringify(request) + '\n');
    });
  }

  /** pid of the running analyzer process (tests check there is exactly one). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private ensureChild(): ChildProcess {
    if (this.child) return this.child;
    const now = Date.now();
    while (this.crashes.length && now - this.crashes[0] > 60_000) this.crashes.shift();
    if (this.crashes.length >= 3) {
      throw new Error(`The Python source analyzer crashed 3 times in a minute (${this.opts.python}): ${this.stderrTail.trim() || 'no error output'}. Check the interpreter (setting parallelRun.python.path).`);
    }
    assertMayStartProcess(`start the Python source analyzer (${this.opts.python})`);
    // -I: isolated mode, so a module in the user's folder (say `ast.py`) can never shadow the stdlib
    const child = spawn(this.opts.python, ['-I', this.opts.script, '--serve'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: process.platform !== 'win32', // own process group, killed as a group
      windowsHide: true,
    });
    this.child = child;
    this.opts.log?.(`source analyzer started: ${this.opts.python} ${this.opts.script} (pid ${child.pid})`);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => this.onData(chunk));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-2000);
    });
    child.stdin!.on('error', () => undefined); // EPIPE after a crash: reported by 'exit'
    const onGone = (why: string): void => {
      if (this.child !== child) return;
      this.child = undefined;
      this.buffer = '';
      if (!this.disposed) {
        this.crashes.push(Date.now());
        this.opts.log?.(`source analyzer stopped (${why}) ${this.stderrTail.trim()}`);
      }
      const err = new Error(`The Python source analyzer stopped (${why}; interpreter ${this.opts.python}). ${this.stderrTail.trim().split('\n').slice(-1)[0] ?? ''}`.trim());
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(err);
        this.pending.delete(id);
      }
    };
    child.on('error', (e) => onGone(`could not start: ${e.message}`));
    child.on('exit', (code, signal) => onGone(signal ? `signal ${signal}` : `exit code ${code}`));
    return child;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (!line.trim()) continue;
      let msg: { id: number; result?: SourceAnalysis; error?: string };
      try {
        msg = JSON.parse(line);
      } catch {
        this.opts.log?.(`source analyzer wrote a non-JSON line: ${line.slice(0, 200)}`);
        continue;
      }
      const p = this.pending.get(msg.id);
      if (!p) continue;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error !== undefined || !msg.result) p.reject(new Error(`The Python source analyzer failed: ${msg.error ?? 'empty answer'}`));
      else p.resolve(msg.result);
    }
  }

  /** Kill the analyzer process (group) and fail pending requests. */
  dispose(): void {
    this.disposed = true;
    const child = this.child;
    this.child = undefined;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error('The Python source analyzer was shut down.'));
    }
    this.pending.clear();
    if (child && child.pid && child.exitCode === null) {
      try {
        if (process.platform !== 'win32') process.kill(-child.pid, 'SIGTERM');
        else child.kill();
      } catch {
        child.kill();
      }
    }
  }
}

/**
 * A SourceAnalyzer for the interpreter `pythonCandidate` (empty = python3), resolved once to the real
 * executable. `mediaDir` is the extension's media/ folder.
 */
export async function createSourceAnalyzer(pythonCandidate: string, mediaDir: string, log?: (m: string) => void): Promise<SourceAnalyzer> {
  const py = await resolvePython(pythonCandidate || 'python3');
  return new SourceAnalyzer({ python: py.executable, script: path.join(mediaDir, ANALYZER_SCRIPT), log });
}

// ---------------------------------------------------------------- per-document cache

/**
 * Caches one analysis per document (keyed by uri) and version: asking again for the same version
 * returns the same promise (lenses and diagnostics share one parse); a newer version replaces it.
 */
export class AnalysisCache {
  private readonly entries = new Map<string, { version: number | string; cores: number; result: Promise<SourceAnalysis> }>();

  constructor(private readonly analyzer: Pick<SourceAnalyzer, 'analyze'>, private readonly maxDocuments = 64) {}

  get(key: string, version: number | string, source: () => string, options: AnalyzeOptions): Promise<SourceAnalysis> {
    const hit = this.entries.get(key);
    if (hit && hit.version === version && hit.cores === options.cores) {
      // refresh LRU order
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.result;
    }
    const result = this.analyzer.analyze(source(), options);
    const entry = { version, cores: options.cores, result };
    this.entries.set(key, entry);
    // a failed analysis must not stick: the next request retries
    result.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    while (this.entries.size > this.maxDocuments) this.entries.delete(this.entries.keys().next().value as string);
    return result;
  }

  /** The cached analysis of `key` at exactly `version`, if any. */
  peek(key: string, version: number | string): Promise<SourceAnalysis> | undefined {
    const hit = this.entries.get(key);
    return hit && hit.version === version ? hit.result : undefined;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
