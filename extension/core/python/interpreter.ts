/**
 * Python interpreter resolution. A pyenv shim (or conda/asdf wrapper) costs 0.1–0.2 s per start, so a
 * run resolves the candidate ONCE to the real executable (`sys.executable`) and spawns that per file.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { assertMayStartProcess } from '../processGate';
import { UsageError } from '../run/types';

export interface ResolvedPython {
  /** Absolute path of the real interpreter (not a shim). */
  executable: string;
  /** e.g. "3.11.7" */
  version: string;
}

const cache = new Map<string, Promise<ResolvedPython>>();

const PROBE = 'import sys; print(sys.executable); print(".".join(map(str, sys.version_info[:3])))';

function notFound(candidate: string, why: string): UsageError {
  return new UsageError(
    `Cannot run: Python interpreter "${candidate}" ${why} (setting parallelRun.python.path). ` +
      'Set parallelRun.python.path to a Python 3 executable (e.g. /usr/bin/python3), pick one with "Python: Select Interpreter", or pass --python PATH on the command line.',
  );
}

/**
 * Resolves `candidate` (a command on PATH or a path; empty = `python3`) to the real executable via
 * `sys.executable`, once per candidate per process. Rejects with a UsageError naming the setting
 * `parallelRun.python.path` and the fix when it is missing, not Python 3, or broken.
 */
export function resolvePython(candidate: string): Promise<ResolvedPython> {
  const cmd = candidate.trim() || 'python3';
  let p = cache.get(cmd);
  if (!p) {
    p = probe(cmd);
    cache.set(cmd, p);
    // a failure may be fixed by installing the interpreter: do not cache it
    p.catch(() => cache.delete(cmd));
  }
  return p;
}

/**
 * The version of an interpreter given by absolute path as a real binary (not a `#!` script or shim,
 * whose target can depend on the folder), remembered on disk by the binary's identity (real path,
 * inode, size, mtime): a CLI run then skips starting Python once (~0.1 s). Python sets sys.executable
 * to the absolute path it was started by, so that path is the executable.
 */
export function versionCacheFile(): string {
  return path.join(os.homedir(), '.cache', 'parallel-run', 'python-versions.json');
}

/** An executable file that is not a `#!` script (a pyenv shim is one; starting it costs 0.1-0.9 s). */
function isRealBinary(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    const fd = fs.openSync(p, 'r');
    try {
      const head = Buffer.alloc(2);
      fs.readSync(fd, head, 0, 2, 0);
      return head.toString('latin1') !== '#!';
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

function binaryIdentity(cmd: string): string | undefined {
  if (!path.isAbsolute(cmd) || !isRealBinary(cmd)) return undefined;
  try {
    const real = fs.realpathSync(cmd);
    const st = fs.statSync(real);
    return st.isFile() ? `${real}|${st.ino}|${st.size}|${st.mtimeMs}` : undefined;
  } catch {
    return undefined;
  }
}

function readVersionCache(): Record<string, string> {
  try {
    const v = JSON.parse(fs.readFileSync(versionCacheFile(), 'utf8'));
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

function rememberVersion(id: string, version: string): void {
  try {
    const all = readVersionCache();
    all[id] = version;
    const file = versionCacheFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(all));
    fs.renameSync(tmp, file);
  } catch {
    /* a read-only home: probe each time */
  }
}

async function probe(cmd: string): Promise<ResolvedPython> {
  const id = binaryIdentity(cmd);
  const known = id ? readVersionCache()[id] : undefined;
  if (id && typeof known === 'string' && known.startsWith('3.')) return { executable: path.resolve(cmd), version: known };
  const r = await probeByRunning(cmd);
  if (id && r.executable === path.resolve(cmd)) rememberVersion(id, r.version);
  else if (path.isAbsolute(r.executable) && !cache.has(r.executable)) {
    // `python3` (a shim, a name on PATH) named its real executable, which a run resolves next: known
    // now, without starting Python again (and remembered as a probe of it would be)
    cache.set(r.executable, Promise.resolve(r));
    const real = binaryIdentity(r.executable);
    if (real) rememberVersion(real, r.version);
  }
  return r;
}

/** Why a command was not found: a bare name is looked up on PATH, even when a file of that name is here. */
function missingWhy(cmd: string): string {
  if (cmd.includes('/') || !fs.existsSync(cmd)) return 'was not found';
  let executable = false;
  try {
    fs.accessSync(cmd, fs.constants.X_OK);
    executable = fs.statSync(cmd).isFile();
  } catch {
    /* not executable */
  }
  return `was not found on PATH (a bare name is looked up there); the file ./${cmd} here ${executable ? 'would be used as' : 'is not executable (chmod +x it) and would need'} "./${cmd}"`;
}

function probeByRunning(cmd: string): Promise<ResolvedPython> {
  return new Promise((resolve, reject) => {
    assertMayStartProcess(`start the Python interpreter "${cmd}"`);
    execFile(cmd, ['-c', PROBE], { timeout: 30_000, windowsHide: true }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return reject(notFound(cmd, missingWhy(cmd)));
        if (code === 'EACCES') return reject(notFound(cmd, 'is not executable'));
        const detail = String(stderr || err.message).trim().split('\n').slice(-1)[0];
        return reject(notFound(cmd, `failed to start (${detail})`));
      }
      const [exe, version] = String(stdout).trim().split(/\r?\n/);
      if (!exe || !version) return reject(notFound(cmd, 'did not report sys.executable'));
      if (!version.startsWith('3.')) return reject(notFound(cmd, `is Python ${version}, not Python 3`));
      resolve({ executable: exe, version });
    });
  });
}

/**
 * Any Python 3 good enough for the exec-mode task host (it only spawns and waits; the user's code
 * never runs in it): the first `python3` on `envPath` that is a real binary, not a shell-script shim
 * (starting a pyenv shim costs 0.1-0.9 s), else /usr/bin/python3, else the shim resolved once.
 * Undefined when there is no Python at all (the engine then spawns tasks from Node).
 */
export async function hostPython(envPath: string | undefined): Promise<string | undefined> {
  for (const dir of [...(envPath ?? '').split(path.delimiter), '/usr/bin', '/usr/local/bin']) {
    if (!dir) continue;
    const p = path.join(dir, 'python3');
    if (isRealBinary(p)) return p;
  }
  return resolvePython('python3').then((r) => r.executable, () => undefined);
}
