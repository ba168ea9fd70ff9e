/**
 * Client of media/python/warm_host.py: one long-lived Python per pool worker that forks a child per
 * task and measures it with os.wait4. In 'warm' mode the host imported the script's top-level imports
 * once; in 'exec' mode it only fork+execs argv (exact CPU/RSS for cold tasks, cheaper than a Node fork).
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fsEncode, hasRawBytes } from '../run/fsNames';

const SIGNAL_NAMES = new Map<number, string>(Object.entries(os.constants.signals).map(([name, n]) => [n as number, name]));

/** 'SIGTERM' for 15 (the number as text when this platform has no name for it). */
function signalName(n: number): string {
  return SIGNAL_NAMES.get(n) ?? String(n);
}

export interface HostTaskRequest {
  /** warm: [file, ...args]; exec: the full argv */
  argv: string[];
  /** exec mode: argv[0] already resolved to a path (skips the PATH search per task) */
  exe?: string;
  cwd: string;
  stdout: string;
  stderr: string;
  env?: Record<string, string>;
  /** completion token: when the task exits 0 the host appends it, with its result line, to its --done file */
  done?: string;
}

/** A host's start and end readings (epoch ms with microsecond digits): the task's duration to the
 *  microsecond, which the whole-ms start and end lose for tasks of a millisecond or less. */
export function exactWallMs(start: string | undefined, end: string | undefined): number | undefined {
  const d = Number(end) - Number(start);
  return Number.isFinite(d) && d >= 0 ? Math.round(d * 1000) / 1000 : undefined;
}

export interface HostTaskResult {
  exitCode: number | null;
  signal: string | null;
  cpuUserSec: number;
  cpuSysSec: number;
  maxRssKb: number | null;
  /** the child's pid (= its process group); undefined when it did not start */
  pid?: number;
  /** epoch ms, taken by the host around the fork and the wait (exact even for a queued request) */
  start?: number;
  end?: number;
  /** end - start to the microsecond (see exactWallMs) */
  wallMs?: number;
  /** an in-process call's result, as JSON text (sent after the other fields; absent: none, or in the result file) */
  resultJson?: string;
  /** an in-process call: which logs it made (1 = stdout, 2 = stderr; a log it did not make has no tail to read) */
  logs?: number;
}

interface Pending {
  /** call mode: the task's logs (where its output goes if the host dies in the call) */
  logs?: [string, string];
  onStarted?: (pid: number) => void;
  resolve: (r: HostTaskResult) => void;
  reject: (e: Error) => void;
}

export interface WarmHostOptions {
  python: string;
  hostScript: string;
  mode: 'warm' | 'exec' | 'call';
  /** warm mode: the script whose imports are pre-loaded; call mode: the script imported once */
  script?: string;
  /** call mode (media/python/call_host.py): the function called per task */
  call?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** SIGTERM → SIGKILL grace the host gives a group it stops (SIGUSR1), ms */
  killGraceMs?: number;
  /** the run's cgroup directory: the host starts each task in its sub-cgroup named by PARALLEL_SEQ */
  cgroup?: string;
  /** the run's completions file (see HostTaskRequest.done) */
  doneFile?: string;
}

/** One host process (one per worker slot). It runs one task at a time, in request order; several
 *  requests may be queued at once (see runMany). */
export class WarmHost {
  private proc: ChildProcess | undefined;
  /** the tasks sent, oldest (running) first: the host runs them in order, so its replies carry no id */
  private pending: Pending[] = [];
  private stderrTail = '';
  private exited = false;
  /** call mode: the logs folder of the latest request, where the host keeps its scratch logs */
  private logsDir: string | undefined;
  /** imports pre-loaded by a warm host, and those that failed */
  imports: string[] = [];
  failedImports: string[] = [];
  readonly ready: Promise<void>;

  constructor(readonly opts: WarmHostOptions) {
    // an exec host needs nothing outside the standard library: without `site` (-S) it skips the
    // site-packages scan and every .pth file, and is ready for the first task ~0.1 s sooner here
    const args = opts.mode === 'exec' ? ['-S', opts.hostScript, opts.mode] : [opts.hostScript, opts.mode];
    if (opts.mode === 'warm' && opts.script) args.push(opts.script);
    if (opts.mode === 'call') args.push(opts.script ?? '', opts.call ?? '');
    if (opts.killGraceMs !== undefined) args.push('--grace-ms', String(opts.killGraceMs));
    if (opts.cgroup) args.push('--cgroup', opts.cgroup);
    if (opts.doneFile) args.push('--done', opts.doneFile);
    // own process group: a Ctrl-C to the terminal reaches the runner only, which then decides
    const proc = spawn(opts.python, args, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.proc = proc;
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-4000);
    });
    proc.stdin!.on('error', () => {});
    this.ready = new Promise<void>((resolve, reject) => {
      // replies are short ASCII lines (and one JSON line): split them by hand, readline's machinery
      // costs more than the rest of a task's handling here
      let partial = '';
      proc.stdout!.setEncoding('utf8');
      proc.stdout!.on('data', (chunk: string) => {
        let text = partial + chunk;
        let nl = text.indexOf('\n');
        while (nl >= 0) {
          onLine(text.slice(0, nl));
          text = text.slice(nl + 1);
          nl = text.indexOf('\n');
        }
        partial = text;
      });
      const onLine = (line: string): void => {
        const kind = line.charCodeAt(0);
        if (kind === 0x44 /* D */ || kind === 0x53 /* S */) {
          const p = this.pending[0];
          if (!p) return;
          const f = line.split(' ');
          if (kind === 0x53) {
            p.onStarted?.(Number(f[1]));
            return;
          }
          this.pending.shift();
          const logs = f.length > 8 && f[8].charCodeAt(0) === 0x6f /* o */ ? Number(f[8].slice(1)) : undefined;
          const rest = logs === undefined ? 8 : 9;
          const pid = Number(f[1]);
          const status = Number(f[2]); // as waitpid gives it: exit code << 8, or the signal
          const sig = status & 0x7f;
          const rss = Number(f[5]);
          p.resolve({
            exitCode: sig === 0 ? (status >> 8) & 0xff : null,
            signal: sig === 0 ? null : signalName(sig),
            cpuUserSec: Number(f[3]) || 0,
            cpuSysSec: Number(f[4]) || 0,
            maxRssKb: rss >= 0 ? rss : null,
            pid: pid > 0 ? pid : undefined,
            start: f.length > 7 ? Math.round(Number(f[6])) : undefined,
            end: f.length > 7 ? Math.round(Number(f[7])) : undefined,
            wallMs: f.length > 7 ? exactWallMs(f[6], f[7]) : undefined,
            // a call host's "oN" (the logs the call made), then its result (one field, no space in it)
            ...(logs !== undefined ? { logs } : {}),
            ...(f.length > rest ? { resultJson: f[rest] } : {}),
          });
          return;
        }
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
        }
      };
      proc.on('error', (e) => {
        this.exited = true;
        reject(e);
        this.failAll(e);
      });
      proc.on('exit', (code, sig) => {
        this.exited = true;
        if (opts.mode === 'call') this.rescueScratch(proc.pid);
        const e = new Error(`Python worker host exited (${sig ?? code}): ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}`);
        reject(e);
        this.failAll(e);
      });
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** The host's pid (signal it with SIGUSR1 to stop what it runs), undefined once it is gone. */
  get pid(): number | undefined {
    return this.exited ? undefined : this.proc?.pid;
  }

  /** Runs one task. With `onStarted`, it gets the child's pid (= its process group id) as soon as it
   *  forks (one more message per task); the result carries the pid either way. */
  run(req: HostTaskRequest, onStarted?: (pid: number) => void): Promise<HostTaskResult> {
    return this.runMany([{ req, onStarted }])[0];
  }

  /**
   * Queues several tasks in one write: the host starts each as soon as the one before ends, with no
   * round trip through the runner in between (short tasks spend most of their time there otherwise).
   * One promise per task, in order; `onStarted` as in run().
   */
  runMany(tasks: Array<{ req: HostTaskRequest; onStarted?: (pid: number) => void }>): Array<Promise<HostTaskResult>> {
    if (this.exited || !this.proc) return tasks.map(() => Promise.reject(new Error('Python worker host is not running')));
    let payload = '';
    for (const { req, onStarted } of tasks) {
      const env = req.env ?? {};
      const keys = Object.keys(env);
      // flags: "p" (send the pid at the start), then "J" + the completion token
      const fields = [(onStarted ? 'p' : '') + (req.done ? `J${req.done}` : ''), req.cwd, req.stdout, req.stderr, req.exe ?? '', String(keys.length)];
      for (const k of keys) fields.push(k, env[k]);
      fields.push(...req.argv);
      if (fields.some((f) => f.includes('\0'))) {
        const e = new Error('an argument contains a NUL byte, which no program can receive: remove it');
        return tasks.map(() => Promise.reject(e));
      }
      // each field "=" + text + NUL, then a NUL: a request ends with two NULs, which no field can hold
      payload += `=${fields.join('\0=')}\0\0`;
    }
    const call = this.opts.mode === 'call';
    if (call && tasks.length > 0) this.logsDir = path.dirname(tasks[tasks.length - 1].req.stdout);
    const results = tasks.map(
      ({ req, onStarted }) => new Promise<HostTaskResult>((resolve, reject) => this.pending.push({ onStarted, resolve, reject, ...(call ? { logs: [req.stdout, req.stderr] as [string, string] } : {}) })),
    );
    // a file name that is not UTF-8 travels as its bytes (fsNames.ts), which the host passes on as they are
    this.proc.stdin!.write(hasRawBytes(payload) ? fsEncode(payload) : payload);
    return results;
  }

  /**
   * A call host writes a call's output to its scratch logs (".call-PID.out/.err" in the logs folder,
   * see call_host.py) and renames them to the task's logs after the call. When it died in a call (a
   * timeout, a crash, a memory kill), what the call wrote is still there: it becomes the logs of the
   * task it was running; otherwise the scratch files go.
   */
  private rescueScratch(pid: number | undefined): void {
    if (!this.logsDir || pid === undefined) return;
    const running = this.pending[0]?.logs;
    ['out', 'err'].forEach((ext, i) => {
      const scratch = path.join(this.logsDir!, `.call-${pid}.${ext}`);
      try {
        // an empty scratch says nothing (and the reply of a call that ended may still be on its way)
        if (running && fs.statSync(scratch).size > 0) fs.renameSync(scratch, running[i]);
        else fs.unlinkSync(scratch);
      } catch {
        /* none, or the logs folder is gone */
      }
    });
  }

  private failAll(e: Error): void {
    const ps = this.pending;
    this.pending = [];
    for (const p of ps) p.reject(e);
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
