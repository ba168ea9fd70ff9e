/**
 * Client of media/python/warm_host.py: one long-lived Python per pool worker that forks a child per
 * task and measures it with os.wait4. In 'warm' mode the host imported the script's top-level imports
 * once; in 'exec' mode it only fork+execs argv (exact CPU/RSS for cold tasks, cheaper than a Node fork).
 */
import { ChildProcess, spawn } from 'child_process';
import * as readline from 'readline';

export interface HostTaskRequest {
  /** warm: [file, ...args]; exec: the full argv */
  argv: string[];
  /** exec mode: argv[0] already resolved to a path (skips the PATH search per task) */
  exe?: string;
  cwd: string;
  stdout: string;
  stderr: string;
  env?: Record<string, string>;
}

export interface HostTaskResult {
  exitCode: number | null;
  signal: string | null;
  cpuUserSec: number;
  cpuSysSec: number;
  maxRssKb: number | null;
}

interface Pending {
  onStarted: (pid: number) => void;
  resolve: (r: HostTaskResult) => void;
  reject: (e: Error) => void;
}

export interface WarmHostOptions {
  python: string;
  hostScript: string;
  mode: 'warm' | 'exec';
  /** warm mode: the script whose imports are pre-loaded */
  script?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** One host process; tasks are sent one at a time (one host per worker slot). */
export class WarmHost {
  private proc: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderrTail = '';
  private exited = false;
  /** imports pre-loaded by a warm host, and those that failed */
  imports: string[] = [];
  failedImports: string[] = [];
  readonly ready: Promise<void>;

  constructor(readonly opts: WarmHostOptions) {
    const args = [opts.hostScript, opts.mode];
    if (opts.mode === 'warm' && opts.script) args.push(opts.script);
    // own process group: a Ctrl-C to the terminal reaches the runner only, which then decides
    const proc = spawn(opts.python, args, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.proc = proc;
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-4000);
    });
    proc.stdin!.on('error', () => {});
    this.ready = new Promise<void>((resolve, reject) => {
      const rl = readline.createInterface({ input: proc.stdout!, crlfDelay: Infinity });
      rl.on('line', (line) => {
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line);
        } catch {
          return;
        }
        if (msg.ready) {
          this.imports = (msg.imports as string[]) ?? [];
          this.failedImports = (msg.failedImports as string[]) ?? [];
          resolve();
          return;
        }
        const p = this.pending.get(msg.id as number);
        if (!p) return;
        if (msg.event === 'started') p.onStarted(msg.pid as number);
        else if (msg.event === 'done') {
          this.pending.delete(msg.id as number);
          p.resolve({
            exitCode: (msg.exitCode as number | null) ?? null,
            signal: (msg.signal as string | null) ?? null,
            cpuUserSec: Number(msg.utime) || 0,
            cpuSysSec: Number(msg.stime) || 0,
            maxRssKb: typeof msg.maxrssKb === 'number' ? msg.maxrssKb : null,
          });
        }
      });
      proc.on('error', (e) => {
        this.exited = true;
        reject(e);
        this.failAll(e);
      });
      proc.on('exit', (code, sig) => {
        this.exited = true;
        const e = new Error(`Python worker host exited (${sig ?? code}): ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}`);
        reject(e);
        this.failAll(e);
      });
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Runs one task; `onStarted` gets the child's pid (= its process group id) as soon as it forks. */
  run(req: HostTaskRequest, onStarted: (pid: number) => void): Promise<HostTaskResult> {
    if (this.exited || !this.proc) return Promise.reject(new Error('Python worker host is not running'));
    const id = this.nextId++;
    return new Promise<HostTaskResult>((resolve, reject) => {
      this.pending.set(id, { onStarted, resolve, reject });
      this.proc!.stdin!.write(JSON.stringify({ id, ...req }) + '\n');
    });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Stops the host (its running child, if any, is killed by the caller through its process group)
   *  and waits until it is reaped, so its CPU time (and its tasks') is accounted to us and no zombie stays. */
  dispose(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || this.exited) return Promise.resolve();
    const gone = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      proc.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    try {
      proc.stdin!.end();
    } catch {
      /* already closed */
    }
    try {
      process.kill(proc.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
    return gone;
  }
}
