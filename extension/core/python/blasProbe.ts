/**
 * BLAS inspector: which BLAS numpy uses, its version and threading layer, how many threads it uses
 * by default and in the current environment, and the tutorial's `mat.dot(mat.T)` benchmark at 1 vs
 * N threads in fresh processes. The data come from media/python/blas_probe.py (runtime detection via
 * threadpoolctl when installed, else ctypes on the loaded libraries, plus numpy's build config);
 * this module spawns it and interprets its output. No `vscode` import.
 */
import { execFile } from 'child_process';
import * as path from 'path';
import { assertMayStartProcess } from '../processGate';
import { LEGACY_THREAD_ENV_VARS, THREAD_ENV_VARS } from '../threads';

export type BlasVendor = 'OpenBLAS' | 'MKL' | 'BLIS' | 'Accelerate' | 'ATLAS' | 'reference BLAS' | 'unknown';

/** A BLAS or OpenMP runtime loaded in the probed process. */
export interface LoadedLibrary {
  /** 'openblas' | 'mkl' | 'blis' | 'openmp' | 'blas' (a BLAS without a thread API) */
  api: string;
  userApi: 'blas' | 'openmp';
  version?: string;
  threadingLayer?: string;
  architecture?: string;
  numThreads?: number;
  path?: string;
}

/** What numpy's build configuration says about its BLAS. */
export interface BuildBlas {
  /** e.g. "scipy-openblas", "mkl-sdl", "openblas", "blas" (a generic libblas) */
  name?: string;
  version?: string;
  /** e.g. "OpenBLAS 0.3.29 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64" */
  detail?: string;
  libraries?: string[];
}

export interface BlasInfo {
  python: { executable: string; version: string };
  /** null when numpy cannot be imported (see numpyError). */
  numpy: { version: string } | null;
  numpyError?: string;
  vendor: BlasVendor;
  vendorVersion?: string;
  threadingLayer?: string;
  architecture?: string;
  /** How the vendor was determined. */
  source: 'threadpoolctl' | 'runtime (ctypes)' | 'numpy build config' | 'none';
  build: BuildBlas | null;
  /** Deduplicated BLAS/OpenMP runtimes in the process. */
  libraries: LoadedLibrary[];
  /** Threads the BLAS uses in the probed environment (null when no runtime API tells). */
  currentThreads: number | null;
  threadpoolctl: { installed: boolean; version?: string };
  /** Thread environment variables as the probed process saw them (null = unset). */
  env: Record<string, string | null>;
  /** Names of the variables that are set. */
  envSet: string[];
  cpuCount: number | null;
  notes: string[];
}

/** Maps a build-config or library name to a vendor. */
export function vendorFromName(name: string | undefined): BlasVendor {
  const n = (name ?? '').toLowerCase();
  if (!n) return 'unknown';
  if (n.includes('openblas')) return 'OpenBLAS';
  if (n.includes('mkl')) return 'MKL';
  if (n.includes('blis') || n.includes('flame')) return 'BLIS';
  if (n.includes('accelerate') || n.includes('veclib')) return 'Accelerate';
  if (n.includes('atlas')) return 'ATLAS';
  if (/^(c?blas|netlib|reference)/.test(n)) return 'reference BLAS';
  return 'unknown';
}

function str(x: unknown): string | undefined {
  return typeof x === 'string' && x !== '' ? x : undefined;
}
function int(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

/** BLAS section of `np.show_config(mode='dicts')` (numpy ≥ 1.25). */
export function buildBlasFromDicts(config: unknown): BuildBlas | null {
  const deps = (config as Record<string, unknown> | null)?.['Build Dependencies'] as Record<string, unknown> | undefined;
  const blas = deps?.blas as Record<string, unknown> | undefined;
  if (!blas) return null;
  return { name: str(blas.name), version: str(blas.version), detail: str(blas['openblas configuration']) };
}

/**
 * BLAS section of the TEXT printed by `np.show_config()`, in either format:
 *  - numpy ≥ 1.25: YAML-like "Build Dependencies:\n  blas:\n    name: scipy-openblas\n    …" where a
 *    long value may wrap onto a more-indented continuation line;
 *  - numpy < 1.25 (distutils system_info): "blas_opt_info:\n    libraries = ['mkl_rt', 'pthread']\n …"
 *    sections, "NOT AVAILABLE" for the ones not found.
 */
export function parseShowConfigText(text: string): BuildBlas | null {
  const lines = text.replace(/\r/g, '').split('\n');
  // modern format
  const bd = lines.findIndex((l) => /^Build Dependencies:\s*$/.test(l));
  if (bd >= 0) {
    const start = lines.findIndex((l, i) => i > bd && /^ {2}blas:\s*$/.test(l));
    if (start < 0) return null;
    const fields: Record<string, string> = {};
    let last: string | undefined;
    for (let i = start + 1; i < lines.length; i++) {
      const l = lines[i];
      if (!/^ {4}/.test(l)) break; // next section
      const m = /^ {4}([^:\s][^:]*):\s?(.*)$/.exec(l);
      if (m) {
        last = m[1].trim();
        fields[last] = m[2].trim();
      } else if (last && /^ {5,}\S/.test(l)) {
        fields[last] += ' ' + l.trim(); // wrapped continuation
      }
    }
    return { name: fields.name || undefined, version: fields.version || undefined, detail: fields['openblas configuration'] || undefined };
  }
  // legacy format: "<name>_info:" sections with "key = value" lines
  const sections = new Map<string, Record<string, string>>();
  let cur: Record<string, string> | undefined;
  for (const l of lines) {
    const head = /^(\w+):\s*$/.exec(l);
    if (head) {
      cur = {};
      sections.set(head[1], cur);
      continue;
    }
    const kv = /^\s+(\w+)\s*=\s*(.*)$/.exec(l);
    if (kv && cur) cur[kv[1]] = kv[2].trim();
  }
  const available = [...sections.entries()].filter(([, v]) => Object.keys(v).length > 0);
  // prefer the vendor-specific section (blas_mkl_info, openblas_info, …) over the generic ones
  const specific = available.find(([k]) => /blas|mkl|blis|atlas|accelerate/.test(k) && !/^blas_(opt_)?info$/.test(k) && !/lapack/.test(k));
  const chosen = specific ?? available.find(([k]) => k === 'blas_opt_info') ?? available.find(([k]) => k === 'blas_info');
  if (!chosen) return null;
  const libs = [...(chosen[1].libraries ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]);
  const sectionName = chosen[0].replace(/_info$/, '');
  const name = sectionName === 'blas_opt' || sectionName === 'blas' ? (libs[0] ?? 'blas') : sectionName;
  return { name, libraries: libs };
}

/**
 * Interprets the JSON printed by blas_probe.py. Runtime detection (threadpoolctl, else ctypes on the
 * loaded libraries) wins over the build config, which only names what numpy was linked against
 * (a Debian numpy says "blas" although the alternatives system loads OpenBLAS at run time).
 */
export function parseProbeOutput(stdout: string): BlasInfo {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`The BLAS probe printed no result${stdout.trim() ? `: ${stdout.trim().slice(0, 200)}` : ''}.`);
  const raw = JSON.parse(line) as Record<string, unknown>;
  const py = (raw.python ?? {}) as Record<string, unknown>;
  const env = (raw.env ?? {}) as Record<string, string | null>;
  const notes: string[] = [];
  const np = raw.numpy as Record<string, unknown> | null | undefined;

  const tp = raw.threadpoolctl as { version?: string; info?: Array<Record<string, unknown>> } | null | undefined;
  const libraries: LoadedLibrary[] = [];
  const seen = new Set<string>();
  const add = (lib: LoadedLibrary): void => {
    // one runtime can be mapped under two names (Debian's libblas.so.3 forwarding to libopenblasp)
    const key = `${lib.api}|${lib.version}|${lib.threadingLayer}|${lib.numThreads}`;
    if (seen.has(key)) return;
    seen.add(key);
    libraries.push(lib);
  };
  let source: BlasInfo['source'] = 'none';
  if (tp && Array.isArray(tp.info)) {
    source = 'threadpoolctl';
    for (const i of tp.info) {
      add({
        api: str(i.internal_api) ?? 'unknown', userApi: i.user_api === 'openmp' ? 'openmp' : 'blas',
        version: str(i.version), threadingLayer: str(i.threading_layer), architecture: str(i.architecture),
        numThreads: int(i.num_threads), path: str(i.filepath),
      });
    }
  } else if (Array.isArray(raw.loaded)) {
    source = 'runtime (ctypes)';
    for (const i of raw.loaded as Array<Record<string, unknown>>) {
      if (str(i.error)) notes.push(`Could not query ${str(i.path)}: ${str(i.error)}`);
      const api = str(i.api) ?? 'unknown';
      add({
        api, userApi: api === 'openmp' ? 'openmp' : 'blas',
        version: str(i.version), threadingLayer: str(i.threadingLayer), architecture: str(i.architecture),
        numThreads: int(i.numThreads), path: str(i.path),
      });
    }
  }

  let build: BuildBlas | null = null;
  if (raw.config) build = buildBlasFromDicts(raw.config);
  else if (typeof raw.configText === 'string') build = parseShowConfigText(raw.configText);

  const blasLib = libraries.find((l) => l.userApi === 'blas' && l.api !== 'blas') ?? libraries.find((l) => l.userApi === 'blas');
  let vendor: BlasVendor = blasLib ? vendorFromName(blasLib.api) : 'unknown';
  let vendorVersion = blasLib?.version;
  if (vendor === 'unknown' || vendor === 'reference BLAS') {
    const fromBuild = vendorFromName(build?.name);
    if (fromBuild !== 'unknown' && (vendor === 'unknown' || fromBuild !== 'reference BLAS')) {
      vendor = fromBuild;
      vendorVersion = build?.version;
      if (libraries.length === 0 && np) source = 'numpy build config';
    }
  }
  if (np && build && blasLib && vendorFromName(build.name) !== vendor && vendorFromName(build.name) !== 'unknown') {
    notes.push(`numpy was built against "${build.name}" but ${vendor} is what is loaded at run time.`);
  }
  const openmp = libraries.find((l) => l.userApi === 'openmp');
  let threadingLayer = blasLib?.threadingLayer;
  if (threadingLayer === 'openmp' && openmp) threadingLayer = `openmp (${openmp.api === 'openmp' ? 'OpenMP runtime' : openmp.api})`;
  const currentThreads = blasLib?.numThreads ?? null;
  if (np && currentThreads === null) {
    notes.push(tp ? 'threadpoolctl found no BLAS with a thread API in this process.'
      : 'The thread count could not be read from the loaded BLAS; install threadpoolctl (pip install threadpoolctl) for exact numbers.');
  }
  const numpyError = str(raw.numpyError);
  if (!np) notes.push(`numpy is not installed in ${str(py.executable) ?? 'this interpreter'} (${numpyError ?? 'import failed'}). Install it with "${str(py.executable) ?? 'python'} -m pip install numpy", or pick the interpreter that has it (setting parallelRun.python.path or "Python: Select Interpreter").`);

  return {
    python: { executable: str(py.executable) ?? '', version: str(py.version) ?? '' },
    numpy: np ? { version: str(np.version) ?? '?' } : null,
    numpyError,
    vendor: np ? vendor : 'unknown',
    vendorVersion: np ? vendorVersion : undefined,
    threadingLayer,
    architecture: blasLib?.architecture,
    source: np ? source : 'none',
    build,
    libraries,
    currentThreads,
    threadpoolctl: { installed: !!tp, version: tp?.version },
    env,
    envSet: Object.entries(env).filter(([, v]) => v !== null && v !== undefined).map(([k]) => k),
    cpuCount: int(raw.cpuCount) ?? null,
    notes,
  };
}

/** Path of the probe script inside the extension's media folder. */
export function blasProbeScript(mediaDir: string): string {
  return path.join(mediaDir, 'python', 'blas_probe.py');
}

export interface ProbeOptions {
  /** Environment of the probe; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Run the tutorial benchmark this many times (0 = none). */
  benchNumber?: number;
  rows?: number;
  cols?: number;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** The probe's raw stdout (one JSON line); rejects with a message naming the interpreter. */
export function runProbe(python: string, script: string, opts: ProbeOptions = {}): Promise<string> {
  const args = [script, '--env-vars', [...THREAD_ENV_VARS, ...LEGACY_THREAD_ENV_VARS].join(',')];
  if (opts.benchNumber) args.push('--bench', String(opts.benchNumber), '--rows', String(opts.rows ?? 1000), '--cols', String(opts.cols ?? 1500));
  return new Promise((resolve, reject) => {
    assertMayStartProcess(`probe the BLAS library of ${python}`);
    execFile(python, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 300_000, signal: opts.signal, maxBuffer: 16 * 1024 * 1024, windowsHide: true }, (err, stdout, stderr) => {
      if (err) {
        if ((err as Error).name === 'AbortError') return reject(err);
        const detail = String(stderr || err.message).trim().split('\n').slice(-3).join(' ');
        return reject(new Error(`The BLAS probe failed in "${python}": ${detail}. Check that this is a working Python 3 (setting parallelRun.python.path).`));
      }
      resolve(String(stdout));
    });
  });
}

/** An environment without any of the thread variables: what BLAS does when nobody limits it. */
export function envWithoutThreadVars(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const v of [...THREAD_ENV_VARS, ...LEGACY_THREAD_ENV_VARS]) delete out[v];
  return out;
}

/** An environment with every thread variable set to `threads` (what a Parallel Run task gets). */
export function envWithThreads(threads: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = envWithoutThreadVars(env);
  for (const v of THREAD_ENV_VARS) out[v] = String(threads);
  return out;
}

export interface BlasInspection {
  /** In the environment given (VS Code's / the shell's). */
  current: BlasInfo;
  /** Threads BLAS uses when no variable limits it (probe in a clean environment). */
  defaultThreads: number | null;
}

/** Probes twice in parallel: in `env` (current) and with the thread variables removed (default). */
export async function inspectBlas(python: string, mediaDir: string, opts: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<BlasInspection> {
  const script = blasProbeScript(mediaDir);
  const env = opts.env ?? process.env;
  const [cur, clean] = await Promise.all([
    runProbe(python, script, { env, signal: opts.signal }),
    runProbe(python, script, { env: envWithoutThreadVars(env), signal: opts.signal }),
  ]);
  const current = parseProbeOutput(cur);
  return { current, defaultThreads: parseProbeOutput(clean).currentThreads };
}

export interface BlasBenchPoint {
  threads: number;
  /** Total seconds for `number` products. */
  seconds: number;
  perCallMs: number;
  /** Threads the BLAS reported in that process (proves the limit was applied). */
  measuredThreads: number | null;
}

export interface BlasBenchmark {
  rows: number;
  cols: number;
  number: number;
  points: BlasBenchPoint[];
  /** time(1 thread) / time(most threads). */
  speedup: number | null;
}

/**
 * The tutorial's benchmark: `mat.dot(mat.T)` on a rows × cols matrix, `number` times, once per
 * thread count, each in a FRESH process with every thread variable set (BLAS reads them at load
 * time, so limits cannot be changed reliably inside one process without threadpoolctl).
 * Runs sequentially so the measurements do not compete for cores.
 */
export async function benchmarkBlas(python: string, mediaDir: string, opts: { threadCounts: number[]; number?: number; rows?: number; cols?: number; env?: NodeJS.ProcessEnv; signal?: AbortSignal; onProgress?: (threads: number, index: number) => void }): Promise<BlasBenchmark> {
  const script = blasProbeScript(mediaDir);
  const number = opts.number ?? 20;
  const rows = opts.rows ?? 1000;
  const cols = opts.cols ?? 1500;
  const points: BlasBenchPoint[] = [];
  for (const [i, t] of opts.threadCounts.entries()) {
    opts.onProgress?.(t, i);
    const out = await runProbe(python, script, { env: envWithThreads(t, opts.env), benchNumber: number, rows, cols, signal: opts.signal });
    const raw = JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}') as Record<string, unknown>;
    if (typeof raw.benchError === 'string') throw new Error(`The BLAS benchmark could not run: ${raw.benchError}.`);
    const b = raw.bench as { seconds: number; perCallMs: number };
    points.push({ threads: t, seconds: b.seconds, perCallMs: b.perCallMs, measuredThreads: parseProbeOutput(out).currentThreads });
  }
  const one = points.find((p) => p.threads === 1);
  const most = points.reduce((a, b) => (b.threads > a.threads ? b : a), points[0]);
  return { rows, cols, number, points, speedup: one && most && most.seconds > 0 ? one.seconds / most.seconds : null };
}

/** Markdown report of an inspection (and benchmark), like the tutorial's output. */
export function formatBlasReport(ins: BlasInspection, bench?: BlasBenchmark, cores?: number): string {
  const c = ins.current;
  const out: string[] = [`# BLAS threads: ${c.python.executable || 'python'}`, ''];
  out.push(`Python ${c.python.version}${cores ? ` · ${cores} logical cores` : ''}`, '');
  if (!c.numpy) {
    out.push('**numpy is not installed in this interpreter.**', '');
    for (const n of c.notes) out.push(`- ${n}`);
    return out.join('\n') + '\n';
  }
  const row = (k: string, v: string): string => `| ${k} | ${v.replace(/\|/g, '\\|')} |`;
  out.push('| | |', '| --- | --- |');
  out.push(row('numpy', c.numpy.version));
  out.push(row('BLAS vendor', `${c.vendor}${c.vendorVersion ? ` ${c.vendorVersion}` : ''}`));
  out.push(row('threading layer', c.threadingLayer ?? 'unknown'));
  if (c.architecture) out.push(row('CPU kernel', c.architecture));
  out.push(row('threads by default (no variables set)', ins.defaultThreads === null ? 'unknown' : String(ins.defaultThreads)));
  out.push(row('threads now (this environment)', c.currentThreads === null ? 'unknown' : String(c.currentThreads)));
  out.push(row('detected by', c.source === 'threadpoolctl' ? `threadpoolctl ${c.threadpoolctl.version ?? ''}`.trim() : c.source));
  if (c.build) out.push(row('numpy build config', [c.build.name, c.build.version, c.build.detail].filter(Boolean).join(' · ')));
  out.push('', '## Thread environment variables', '');
  out.push('| variable | value |', '| --- | --- |');
  for (const [k, v] of Object.entries(c.env)) out.push(`| \`${k}\` | ${v === null ? '*(not set)*' : `\`${v}\``} |`);
  out.push('');
  if (c.envSet.length === 0 && (ins.defaultThreads ?? 1) > 1) {
    out.push(`No thread variable is set: every Python process that calls numpy may start ${ins.defaultThreads} BLAS threads. ` +
      'Parallel Run sets them per task (workers × threads ≤ cores); your own process pools should too.', '');
  }
  if (bench) {
    out.push(`## Benchmark: \`mat.dot(mat.T)\`, ${bench.rows} × ${bench.cols}, ${bench.number} times, fresh process per row`, '');
    out.push('| threads | total (s) | per product (ms) | BLAS reported |', '| ---: | ---: | ---: | ---: |');
    for (const p of [...bench.points].sort((a, b) => b.threads - a.threads)) {
      out.push(`| ${p.threads} core${p.threads === 1 ? '' : 's'} | ${p.seconds.toFixed(3)} | ${p.perCallMs.toFixed(1)} | ${p.measuredThreads ?? '?'} |`);
    }
    if (bench.speedup !== null) out.push('', `Speedup with ${Math.max(...bench.points.map((p) => p.threads))} threads: **${bench.speedup.toFixed(2)}×**.`);
    out.push('');
  }
  if (c.notes.length) {
    out.push('## Notes', '');
    for (const n of c.notes) out.push(`- ${n}`);
  }
  return out.join('\n') + '\n';
}
