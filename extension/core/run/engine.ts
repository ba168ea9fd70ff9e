/**
 * The batch engine: plan → pool → tasks → journal → report.
 *
 * `startRun` validates EVERYTHING first (plan.ts: options, command, interpreter, script, output
 * directory, the first input file) and rejects with a UsageError before anything starts. Then a workerpool of
 * `workers` threads (dist/workers/taskWorker.js) runs one task per file; the engine keeps exactly one
 * task per free slot in flight, so the file source is read lazily (backpressure) and `{%}` is a real
 * slot number. Each finished task is one journal line; the report is built as tasks finish.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { LoadWatch } from '../load';
import type { Sampler, SystemSample } from '../monitor';
import { assertMayStartProcess } from '../processGate';
import { THREAD_ENV_VARS } from '../threads';
import type { RunTaskParams, RunTaskResult, TaskWorkerEvent, TaskWorkerInit } from '../../shared/workerApi';
import { dropCompletions, recoverCompletions, tokenText } from './completions';
import { displayName, nameOfRecord } from './fsNames';
import { InputLayout, namedValues } from './inputs';
import { fileKey, isDiskFull, JournalWriter, readJournal, succeededFiles } from './journal';
import { EarlyStop, failureSignature, type FailureSignature, haltReached, haltSentence, haltText } from './failures';
import { batchLimitOf, BatchPolicy } from './batchPolicy';
import { MemoryGate } from './memoryGate';
import { OomKills } from './oomKills';
import { logStem, plan, type Plan, resumeCheck, taskArgv } from './plan';
import { ReportBuilder, TASKS_IN_MEMORY } from './report';
import { RESULT_ENV, ResultsWriter } from './results';
import { writeJsonAtomic } from './runDir';
import { KILL_GRACE_MS, RunKills } from './runKills';
import { diskFullNote, lowOnSpace, TAIL_BYTES, taskRecord, writeRunEnd } from './runReport';
import { TimeoutPolicy } from './timeoutPolicy';
import { inProcessPool, type SlotPool, threadPool } from './inProcessPool';
import { FirstTaskSlot } from './firstTask';
import { taskPool } from './taskPool';
import { RUN_FILES, RunEvent, RunHandle, RunOptions, RunReport, TaskRecord, TaskStatus, UsageError } from './types';
import { SESSION_MARKER_VAR } from './watchdog';

/**
 * Starts a run. Validates everything first and rejects with a UsageError (nothing started) on bad
 * input; otherwise resolves with a handle as soon as the run has started. The handle's `done`
 * resolves with the final report and never rejects for task failures.
 */
export async function startRun(opts: RunOptions): Promise<RunHandle> {
  assertMayStartProcess('run scripts');
  const p = await plan(opts);
  const run = new Run(p);
  try {
    await run.start();
  } catch (e) {
    p.lock?.release();
    throw e;
  }
  return run.handle;
}

/** A file taken from the source, to run. */
interface Pending {
  file: string;
  /** 1-based position in the source ({#}) */
  index: number;
  st: fs.Stats | undefined;
  /** its logs' name, logs/<stem>.out and .err */
  stem: string;
  /** a run over tuples: this task's tuple (its key) */
  tuple?: { layout: InputLayout; values: string[] };
}

/** A task the pool could not run (its worker failed): a failed result that says so. */
function workerFailed(e: Error): RunTaskResult {
  const now = Date.now();
  const msg = `parallel-run: task worker failed: ${e.message}`;
  return { start: now, end: now, exitCode: null, signal: null, cpuUserSec: 0, cpuSysSec: 0, maxRssKb: null, stdoutTail: '', stderrTail: msg, timedOut: false, spawnError: msg, measured: 'proc' };
}

interface InFlight {
  index: number;
  file: string;
  attempt: number;
  pgid?: number;
}

class Run {
  readonly builder: ReportBuilder;
  private readonly listeners = new Set<(e: RunEvent) => void>();
  private pool!: SlotPool;
  /** what the run kills and how: shared stop flag and pids, cgroup, watchdog, killed groups */
  private kills: RunKills | undefined;
  private journal!: JournalWriter;
  /** results.csv / results.ndjson (undefined when they cannot be written: a note says so) */
  private results: ResultsWriter | undefined;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly freeSlots: number[] = [];
  private slotWaiter: ((slot: number | undefined) => void) | undefined;
  private running = 0;
  private allIdle: (() => void) | undefined;
  private stopping: 'cancelled' | 'halted' | undefined;
  /** 'now': running tasks were killed; 'soon': they are let finish (a --halt soon rule, the early stop) */
  private stopHow: 'now' | 'soon' = 'now';
  private readonly earlyStop: EarlyStop;
  /** finished files of this session (not skipped, not cancelled), for the --halt rules */
  private readonly sessionCounts = { done: 0, failed: 0, succeeded: 0 };
  /** tells a SIGKILL by the kernel's OOM killer from another */
  private oom: OomKills | undefined;
  /** files of the run outside a re-run of some of them (RunOptions.subset), counted in the total */
  private totalOffset = 0;
  private sampler: Sampler | undefined;
  private load: LoadWatch | undefined;
  private resolveDone!: (r: RunReport) => void;
  readonly done: Promise<RunReport>;
  readonly handle: RunHandle;
  private readonly session: string;
  private readonly logsDir: string;

  constructor(private readonly p: Plan) {
    this.session = p.def.sessions[p.def.sessions.length - 1].session;
    // PARALLEL_RUN_TASKS_IN_MEMORY: how many task records the live report keeps (default 5,000)
    const keep = Number(process.env.PARALLEL_RUN_TASKS_IN_MEMORY);
    this.builder = new ReportBuilder(p.def, Date.now(), Number.isInteger(keep) && keep > 0 ? keep : TASKS_IN_MEMORY);
    for (const n of p.notes) this.builder.note(n);
    this.logsDir = path.join(p.outDir, RUN_FILES.logs);
    for (let s = p.workers; s >= 1; s--) this.freeSlots.push(s);
    this.earlyStop = new EarlyStop(p.stopEarly);
    this.batches = new BatchPolicy(p.workers, batchLimitOf(process.env.PARALLEL_RUN_BATCH, p.host?.mode === 'call'));
    this.timeouts = new TimeoutPolicy(p.timeoutSec, p.timeoutPercent);
    this.done = new Promise((r) => (this.resolveDone = r));
    const self = this;
    this.handle = {
      runId: p.def.runId,
      outDir: p.outDir,
      onEvent(listener) {
        self.listeners.add(listener);
        return () => self.listeners.delete(listener);
      },
      report: () => this.builder.snapshot(),
      done: this.done,
      cancel: () => this.stop('cancelled'),
    };
  }

  private emit(e: RunEvent): void {
    if (this.held) {
      this.held.push(e);
      return;
    }
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* a listener's bug must not break the run */
      }
    }
  }

  async start(): Promise<void> {
    const p = this.p;
    try {
      writeJsonAtomic(path.join(p.outDir, RUN_FILES.definition), p.def);
      // a stale report.json from an earlier session would be read as this run's result
      fs.rmSync(path.join(p.outDir, RUN_FILES.report), { force: true });
      this.journal = new JournalWriter(path.join(p.outDir, RUN_FILES.journal));
    } catch (e) {
      p.source.close();
      if (isDiskFull(e)) throw new UsageError(`disk full at ${p.outDir}: nothing was started. Free space and run again.`);
      throw e;
    }
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    // an inherited thread var (e.g. from ~/.bashrc) must not override an explicit --threads
    if (p.opts.threads !== undefined) for (const k of THREAD_ENV_VARS) delete env[k];
    Object.assign(env, p.env, p.threadEnv, { [SESSION_MARKER_VAR]: this.session });
    const kills = (this.kills = new RunKills(this.session, p.workers, p.opts.workersDir));
    const init: TaskWorkerInit = { env, tailBytes: TAIL_BYTES, killGraceMs: KILL_GRACE_MS, host: p.host, shared: kills.shared, cgroup: kills.cgroup?.dir };
    // a cold run's first task does not wait for a task worker thread to boot (see firstTask.ts)
    this.first = FirstTaskSlot.of(init);
    if (p.host?.mode === 'call') this.pool = inProcessPool(p.workers, init);
    else {
      const threads = taskPool(p.workerScript, p.workers, init);
      this.pool = threadPool(threads);
      this.bootWorker = () => void threads.exec('warmUp', []).catch(() => undefined);
    }
    // With Python hosts, the hosts are the watchdog: when the runner dies (parent-death signal) each
    // kills its running task's group and every process carrying the run's marker (grandchildren that
    // left their group included; see on_parent_death in warm_host.py). A watchdog process would cost a
    // fork of this whole process mid-run (a ~50 ms stall here, then a copy-on-write fault for each page
    // the runner writes next). Tasks spawned from Node directly need the watchdog process.
    if (!p.host) kills.startWatchdog();
    if (p.def.memFreeBytes) this.memGate = this.memoryGate(p.def.memFreeBytes);
    this.oom = new OomKills();
    if (p.opts.signal) {
      if (p.opts.signal.aborted) this.stop('cancelled');
      else {
        // removed when the run ends: callers (the sweep) pass one signal to many runs
        const signal = p.opts.signal;
        const onAbort = () => this.stop('cancelled');
        signal.addEventListener('abort', onAbort, { once: true });
        this.offAbort = () => signal.removeEventListener('abort', onAbort);
      }
    }
    // begin after the caller got the handle and subscribed, so it sees 'runStarted'
    setImmediate(() => {
      void this.begin().then(
        () => this.finish(),
        (e) => {
          this.builder.note(`The run stopped on an internal error: ${(e as Error).message}`);
          this.stop('halted');
          void this.finish();
        },
      );
    });
  }

  private async begin(): Promise<void> {
    const p = this.p;
    const journalFile = path.join(p.outDir, RUN_FILES.journal);
    // tasks that ended well after the last journal line of a killed runner: journaled now, not run again
    const recovered = await recoverCompletions(p.outDir, p.def, this.journal, TAIL_BYTES);
    if (recovered > 0) this.builder.note(`${recovered} file${recovered === 1 ? '' : 's'} that ended well just before the last runner stopped ${recovered === 1 ? 'was' : 'were'} journaled from ${recovered === 1 ? 'its' : 'their'} worker's record, not run again.`);
    const resumeMap = p.opts.resume ? await succeededFiles(journalFile, p.def.fingerprint, p.cwd) : new Map();
    try {
      const results = new ResultsWriter(p.outDir, p.source.layout?.resultNames ?? ['file']);
      await results.open(journalFile, p.def.fingerprint, !!p.opts.resume);
      this.results = results;
    } catch (e) {
      this.builder.note(`Could not write results.csv / results.ndjson (${(e as Error).message}): the journal still has every result.`);
    }
    if (p.opts.subset) await this.carryOthers();
    this.emit({ type: 'runStarted', runId: p.def.runId, outDir: p.outDir, workers: p.workers, threads: p.threads, resumeSkipped: resumeMap.size, t: Date.now() });
    const looping = this.loop(resumeMap);
    this.countAhead();
    // the sampler's first reading walks /proc (tens of ms on a busy machine): taken once the first
    // tasks are on their way, not before
    setImmediate(() => this.startSampler());
    await looping;
  }

  /**
   * A re-run of some files (RunOptions.subset) reports the whole run: the run's other files count as
   * they last ended (a success as done before, a failure with its record and group).
   */
  private async carryOthers(): Promise<void> {
    const p = this.p;
    const mine = new Set(p.opts.files.kind === 'list' ? p.opts.files.files.map((f) => fileKey(f, p.cwd)) : []);
    const latest = new Map<string, TaskRecord>();
    for await (const l of readJournal(path.join(p.outDir, RUN_FILES.journal))) {
      if (l.fp !== p.def.fingerprint) continue;
      const k = fileKey(nameOfRecord(l), p.cwd);
      if (mine.has(k)) continue;
      const prev = latest.get(k);
      if (prev?.status === 'succeeded') continue; // a success anywhere stands
      const { fp: _fp, session: _s, ...rec } = l;
      latest.set(k, rec);
    }
    for (const rec of [...latest.values()].sort((a, b) => a.index - b.index)) {
      if (rec.status === 'succeeded' || rec.status === 'skipped') this.builder.skip();
      else this.builder.carry(rec);
    }
    this.totalOffset = latest.size;
  }

  /**
   * The total (for done/total and the ETA) from a second pass over the input, taken while the tasks
   * run; the streamed pass then confirms it (or corrects it, if files came or went meanwhile).
   */
  private countAhead(): void {
    const count = this.p.source.count;
    if (!count) return;
    count().then(
      (n) => {
        if (n === undefined || this.stopping || this.builder.counts.total !== null) return;
        this.builder.counts.total = n + this.totalOffset;
        this.emit({ type: 'total', total: n + this.totalOffset, t: Date.now() });
      },
      () => undefined, // the streamed pass reports a source that cannot be read
    );
  }

  /** resolves once the sampler started (its code loads after the first task is on its way) */
  private samplerStarted: Promise<void> | undefined;

  private startSampler(): Promise<void> {
    if (this.samplerStarted || this.finishing) return this.samplerStarted ?? Promise.resolve();
    if (process.platform !== 'linux') return (this.samplerStarted = Promise.resolve());
    this.samplerStarted = Promise.all([import('../load'), import('../monitor')]).then(
      ([l, m]) => this.startSamplerWith(l.LoadWatch, m.Sampler),
      () => undefined, // no sampler: the report has no CPU samples
    );
    return this.samplerStarted;
  }

  private startSamplerWith(LoadWatch: typeof import('../load').LoadWatch, Sampler: typeof import('../monitor').Sampler): void {
    // other processes' CPU while the run goes: a busy machine makes every figure pessimistic
    const load = (this.load = LoadWatch.now());
    this.builder.loadOf = () => load.current();
    // the machine's CPU and memory each second, read by the monitor's sampler (its first reading,
    // at subscribe, only primes the tick counters)
    const sampler = (this.sampler = new Sampler({ intervalMs: 1000 }));
    sampler.subscribe((s) => this.recordSample(s));
  }

  /** One CPU sample of the report: the whole machine's figures (the report's chart is drawn against
   *  the machine's cores), not the cgroup-relative headline the status bar shows. */
  private recordSample(s: SystemSample): void {
    this.builder.sample({ t: s.t, cpu: s.cpu.hostTotal, memUsed: s.memory.hostUsedBytes });
  }

  private acquireSlot(): Promise<number | undefined> {
    if (this.stopping) return Promise.resolve(undefined);
    const s = this.freeSlots.pop();
    if (s !== undefined) return Promise.resolve(s);
    return new Promise((r) => (this.slotWaiter = r));
  }

  private releaseSlot(slot: number): void {
    const w = this.slotWaiter;
    if (w && !this.stopping) {
      this.slotWaiter = undefined;
      w(slot);
    } else this.freeSlots.push(slot);
  }

  private async loop(resumeMap: Map<string, { size?: number; mtimeMs?: number }>): Promise<void> {
    const p = this.p;
    const files = p.source.items[Symbol.asyncIterator]();
    let index = 0;
    let exhausted = false;
    /** the next file to run (resume skips those that already succeeded), undefined at the end */
    const next = async (): Promise<Pending | undefined> => {
      for (;;) {
        if (exhausted) return undefined;
        const r = await files.next();
        if (r.done) {
          exhausted = true;
          return undefined;
        }
        index++;
        const { file, values } = r.value;
        const { st, skip } = resumeCheck(resumeMap, file, p.cwd, values);
        if (skip) {
          this.builder.skip();
          this.emit({ type: 'taskSkipped', index, file: displayName(file), t: Date.now() });
          continue;
        }
        const tuple = values && { layout: p.source.layout!, values };
        return { file, index, st, stem: logStem(index, file, tuple), tuple };
      }
    };
    let closed = false;
    /** the input is read (or the run stops): its total is known */
    const sourceRead = () => {
      if (closed) return;
      closed = true;
      p.source.close();
      if (!this.stopping && this.builder.counts.total !== index + this.totalOffset) {
        this.builder.counts.total = index + this.totalOffset;
        this.emit({ type: 'total', total: index + this.totalOffset, t: Date.now() });
      }
    };
    try {
      while (!this.stopping) {
        // a task killed for memory (--memfree) goes again before new files, alone on its slot
        const again = this.requeued.shift();
        const first = again?.t ?? (await next());
        if (!first) {
          sourceRead();
          if (await this.moreComing()) continue;
          break;
        }
        if (this.stopping) break;
        if (this.freeSlots.length === 0) this.warmPool();
        const slot = await this.acquireSlot();
        if (slot === undefined) break;
        await this.memGate?.waitToStart();
        // short tasks go to the slot in batches (see batchPolicy.ts); read lazily, like single files
        const batch = [first];
        for (let k = again ? 1 : this.batchSize(index); batch.length < k && !this.stopping; ) {
          const more = await next();
          if (!more) break;
          batch.push(more);
        }
        if (this.stopping) {
          this.releaseSlot(slot);
          break;
        }
        this.running++;
        const ran = batch.length === 1 ? this.runFile(first, slot, again?.after) : this.runBatch(batch, slot);
        void ran.finally(() => {
          this.running--;
          this.releaseSlot(slot);
          this.wake?.();
          if (this.running === 0) this.allIdle?.();
        });
      }
    } catch (e) {
      // closing the source on cancel/halt may end its stream with a premature-close error
      if (!this.stopping) throw e;
    }
    sourceRead();
    if (this.running > 0) await new Promise<void>((r) => (this.allIdle = r));
  }

  /** --memfree: the memory gate (see memoryGate.ts); tasks it killed, to run again before new files */
  private memGate: MemoryGate | undefined;
  private readonly requeued: Array<{ t: Pending; after?: { attempt: number; res: RunTaskResult; params: RunTaskParams } }> = [];
  private wake: (() => void) | undefined;

  /** The input is read to its end: waits until nothing runs (false) or a killed task is back in the queue (true). */
  private async moreComing(): Promise<boolean> {
    while (!this.stopping && this.requeued.length === 0 && this.running > 0) await new Promise<void>((r) => (this.wake = r));
    return !this.stopping && this.requeued.length > 0;
  }

  private memoryGate(memFreeBytes: number): MemoryGate {
    return new MemoryGate({
      memFreeBytes,
      running: () => this.running,
      stopping: () => !!this.stopping,
      kill: (_id, slot) => this.kills?.killSlot(slot, this.p.command.kind === 'python' && this.p.command.call !== undefined),
    });
  }

  /** After an attempt of file `t`: true when the memory gate killed it, and it is back in the queue. */
  private requeuedForMemory(t: Pending, res: RunTaskResult, after?: { attempt: number; res: RunTaskResult; params: RunTaskParams }): boolean {
    if (!this.memGate?.ended(t.index, res.exitCode === 0 && res.signal === null && !res.timedOut)) return false;
    if (this.stopping) return false;
    this.requeued.push({ t, after });
    this.wake?.();
    return true;
  }

  /** how many files a free slot gets at once (batchPolicy.ts) */
  private readonly batches: BatchPolicy;
  /** each attempt's timeout, fixed or relative to the median (timeoutPolicy.ts) */
  private readonly timeouts: TimeoutPolicy;

  /** How many files the next free slot gets at once (1 = one at a time). */
  private batchSize(taken: number): number {
    return this.batches.size({ hosted: !!this.p.host, earlyStopUndecided: this.earlyStop.undecided, total: this.builder.counts.total, taken });
  }

  /** The parameters of one attempt of a file's task on a slot. */
  private taskParams(t: Pending, slot: number, attempt: number): RunTaskParams {
    const p = this.p;
    const stem = t.stem;
    const cmd = p.command;
    const argv = taskArgv(cmd, t.file, t.index, slot, true, t.tuple);
    return {
      index: t.index,
      slot,
      attempt,
      argv,
      exe: cmd.kind === 'template' ? p.exe : cmd.kind === 'python' && !cmd.warm && cmd.call === undefined ? cmd.python : undefined,
      cwd: p.cwd,
      stdoutLog: path.join(p.outDir, RUN_FILES.logs, `${stem}.out`),
      stderrLog: path.join(p.outDir, RUN_FILES.logs, `${stem}.err`),
      timeoutMs: this.timeouts.timeoutMs(),
      env: { PARALLEL_SEQ: String(t.index), PARALLEL_JOBSLOT: String(slot), [RESULT_ENV]: path.join(p.outDir, RUN_FILES.logs, `${stem}.result.json`) },
      ...(t.tuple ? { inputs: namedValues(t.tuple.layout, t.tuple.values) } : {}),
      // the host records the task's good end at once (a resume after a kill does not run it again)
      ...(p.host?.doneFile ? { done: this.token(t, slot, attempt, argv) } : {}),
    };
  }

  /** A task's completion token (see completions.ts). */
  private token(t: Pending, slot: number, attempt: number, argv: string[]): string {
    const p = this.p;
    return tokenText({
      s: this.session,
      fp: p.def.fingerprint,
      i: t.index,
      a: attempt,
      slot,
      f: t.file,
      ...(t.tuple ? { v: t.tuple.values } : {}),
      stem: t.stem,
      ...(t.st ? { size: t.st.size, mtime: t.st.mtimeMs } : {}),
      ...(p.command.kind === 'template' ? { argv: argv.map(displayName) } : {}),
    });
  }

  /** the runner's own thread runs the first attempt dispatched, when its tasks are cold (firstTask.ts) */
  private first: FirstTaskSlot | undefined;
  /** the first task, run by the runner's thread, can start: a task worker may boot now without delaying it */
  private firstReady: Promise<void> | undefined;
  /** boots the pool's next task worker (a thread pool: a warm-up call) */
  private bootWorker: (() => void) | undefined;

  private takeFirst(): FirstTaskSlot | undefined {
    const f = this.first;
    this.first = undefined;
    return f;
  }

  /**
   * More files wait for a slot while the runner's thread runs the first task: the pool's first worker
   * boots now (once the first task started, not to take CPU from its start), so the next task does not
   * wait for it.
   */
  private warmPool(): void {
    const boot = this.bootWorker;
    if (!boot || !this.firstReady) return;
    this.bootWorker = undefined;
    void this.firstReady.then(() => {
      if (!this.stopping && !this.finishing) boot();
    });
  }

  /** One attempt through the pool (or the runner's thread); a worker that failed becomes a failed result naming it. */
  private async attempt(params: RunTaskParams): Promise<RunTaskResult> {
    const first = this.takeFirst();
    if (first) this.firstReady = first.ready();
    try {
      if (first) return await first.run(params, (e) => this.onWorkerEvent(e));
      // the first task, run by the runner's thread, starts first (its host's start has the CPU)
      if (this.firstReady) await this.firstReady;
      return (await this.pool.exec('runTask', [params], { on: (e: TaskWorkerEvent) => this.onWorkerEvent(e) })) as RunTaskResult;
    } catch (e) {
      return workerFailed(e as Error);
    }
  }

  /** What an attempt's result means: done with this status, or retry (the events say which). */
  private verdict(t: Pending, attempt: number, res: RunTaskResult): TaskStatus | 'retry' {
    const p = this.p;
    if (res.exitCode === 0 && res.signal === null && !res.timedOut) return 'succeeded';
    // halted: a task we stopped is cancelled ('soon' stops only tasks that started after the stop, with SIGTERM)
    if (this.stopping === 'cancelled' || (this.stopping === 'halted' && !res.timedOut && res.signal && (this.stopHow === 'now' || res.signal === 'SIGTERM'))) return 'cancelled';
    if (res.timedOut) this.emit({ type: 'taskTimedOut', index: t.index, file: displayName(t.file), attempt, t: Date.now() });
    if (attempt <= p.retries && !this.stopping) {
      const reason = res.timedOut ? `timed out after ${((res.end - res.start) / 1000).toFixed(1)} s` : res.signal ? `killed by ${res.signal}` : `exit code ${res.exitCode}`;
      this.emit({ type: 'taskRetried', index: t.index, file: displayName(t.file), attempt: attempt + 1, reason, t: Date.now() });
      return 'retry';
    }
    return res.timedOut ? 'timedOut' : 'failed';
  }

  /** After an attempt: its process group is no longer the watchdog's, and a timed-out one is remembered. */
  private attemptEnded(flight: InFlight, res: RunTaskResult): void {
    this.kills?.attemptEnded(flight.pgid, flight.pgid ?? res.pid, res.timedOut);
  }

  /**
   * A file's task on a slot, one attempt after another until it succeeds, runs out of retries or the
   * run stops. `after` = an attempt already made (in a batch) that asked for a retry.
   */
  private async runFile(t: Pending, slot: number, after?: { attempt: number; res: RunTaskResult; params: RunTaskParams }): Promise<void> {
    const flight: InFlight = { index: t.index, file: t.file, attempt: 0 };
    this.inFlight.set(t.index, flight);
    let status: TaskStatus = 'failed';
    let res = after?.res;
    let params = after?.params;
    let attempt = after?.attempt ?? 0;
    try {
      // a retry left over from a batch when the run stopped: the attempt made stands
      if (after && this.stopping) status = after.res.timedOut ? 'timedOut' : 'failed';
      else {
        for (;;) {
          attempt++;
          flight.attempt = attempt;
          flight.pgid = undefined;
          this.emit({ type: 'taskStarted', index: t.index, file: displayName(t.file), slot, attempt, t: Date.now() });
          this.memGate?.started(t.index, slot);
          const before = attempt > 1 ? { attempt: attempt - 1, res: res!, params: params! } : undefined;
          params = this.taskParams(t, slot, attempt);
          res = await this.attempt(params);
          this.attemptEnded(flight, res);
          if (this.requeuedForMemory(t, res, before)) return;
          const v = this.verdict(t, attempt, res);
          if (v !== 'retry') {
            status = v;
            break;
          }
        }
      }
    } finally {
      this.inFlight.delete(t.index);
    }
    this.finished(t, status, attempt, params!, res!);
  }

  /**
   * Several files on one slot, back to back (see batchPolicy.ts): results come in 'tasksDone' events, within
   * 20 ms of their task's end, and are journaled as they come; a file that asks for a retry gets it on
   * this slot once the batch is over; files the batch did not report (its worker failed) fail with the
   * worker's error.
   */
  private async runBatch(batch: Pending[], slot: number): Promise<void> {
    this.takeFirst()?.decline();
    this.builder.batched.batches++;
    this.builder.batched.tasks += batch.length;
    const params = batch.map((t) => this.taskParams(t, slot, 1));
    const flights = batch.map((t) => ({ index: t.index, file: t.file, attempt: 1 }) as InFlight);
    for (const f of flights) this.inFlight.set(f.index, f);
    const position = new Map(batch.map((t, i) => [t.index, i]));
    const reported = new Set<number>();
    const retries: Array<{ t: Pending; res: RunTaskResult; params: RunTaskParams }> = [];
    const settle = (i: number, res: RunTaskResult) => {
      reported.add(i);
      const t = batch[i];
      this.attemptEnded(flights[i], res);
      this.inFlight.delete(t.index);
      if (this.requeuedForMemory(t, res)) return;
      const v = this.verdict(t, 1, res);
      if (v === 'retry') retries.push({ t, res, params: params[i] });
      else this.finished(t, v, 1, params[i], res);
    };
    const started = (i: number, at: number) => {
      this.emit({ type: 'taskStarted', index: batch[i].index, file: displayName(batch[i].file), slot, attempt: 1, t: at });
      this.memGate?.started(batch[i].index, slot, at);
    };
    started(0, Date.now());
    try {
      await this.pool.exec('runBatch', [params], {
        on: (e: TaskWorkerEvent) => {
          if (e.type !== 'tasksDone') return this.onWorkerEvent(e);
          this.asOne(() => {
            for (const d of e.done) {
              const i = position.get(d.index);
              if (i === undefined || reported.has(i)) continue;
              // the host started the next file as this one ended
              if (i + 1 < batch.length) started(i + 1, d.result.end);
              settle(i, d.result);
            }
          });
        },
      });
    } catch (e) {
      for (let i = 0; i < batch.length; i++) if (!reported.has(i)) settle(i, workerFailed(e as Error));
    }
    for (const r of retries) await this.runFile(r.t, slot, { attempt: 1, res: r.res, params: r.params });
  }

  /** A file's task is over (its last attempt ran with `params`): one journal line, the report, the
   *  events; a failure halts a --halt run. */
  private finished(t: Pending, status: TaskStatus, attempts: number, params: RunTaskParams, r: RunTaskResult): void {
    const p = this.p;
    const index = t.index;
    const error = status === 'failed' || status === 'timedOut' ? this.signatureOf(status, r) : undefined;
    // the task's result (JSON on its last stdout line, or in its $PARALLEL_RUN_RESULT file) is journaled with it
    const rec = taskRecord({ ...t, status, attempts, params, result: r, error }, p.command, p.threadEnv);
    this.journalWrite(() => {
      this.journaled++; // taken back if its line is not written (JournalWriter: `unwritten`)
      this.journal.append({ ...rec, fp: p.def.fingerprint, session: this.session });
    });
    this.resultsWrite(() => this.results?.add(rec));
    // a task that could not write its logs fails (often with empty logs): say why, and stop
    if ((status === 'failed' || status === 'timedOut') && !this.diskFullAt && lowOnSpace(this.logsDir)) this.diskFull(this.logsDir);
    this.builder.add(rec);
    if (status === 'succeeded') this.timeouts.succeeded(rec.wallMs);
    this.batches.taskFinished(rec.wallMs);
    const now = Date.now();
    // Output goes straight to the log files (bounded memory whatever a task prints); listeners get
    // each stream's tail (last TAIL_BYTES) when the task ends; the full text is in the log.
    if (this.listeners.size > 0) {
      if (rec.stdoutTail) this.emit({ type: 'taskOutput', index, stream: 'stdout', text: rec.stdoutTail, t: now });
      if (rec.stderrTail) this.emit({ type: 'taskOutput', index, stream: 'stderr', text: rec.stderrTail, t: now });
    }
    this.emit({ type: 'taskFinished', record: rec, t: now });
    const c = this.builder.counts;
    this.emit({ type: 'progress', done: c.done, total: c.total, failed: c.failed + c.timedOut, etaMs: this.builder.etaMs(now), t: now });
    if (status !== 'cancelled' && status !== 'skipped') this.checkStopRules(status, error);
  }

  /** What a failed attempt died of (a SIGKILL is asked about: the kernel's OOM killer, or not). */
  private signatureOf(status: TaskStatus, r: RunTaskResult): FailureSignature {
    const oom = status === 'failed' && r.signal === 'SIGKILL' ? this.oom?.killedForMemory(r.pid) : undefined;
    return failureSignature({ status, exitCode: r.exitCode, signal: r.signal, stderrTail: r.stderrTail, maxRssKb: r.maxRssKb, wallMs: r.end - r.start }, { oomKilled: oom?.killed, rssKb: oom?.rssKb });
  }

  /** The early stop on a systematic failure, then the --halt rule: either may stop the run. */
  private checkStopRules(status: TaskStatus, error: FailureSignature | undefined): void {
    const c = this.sessionCounts;
    c.done++;
    if (status === 'succeeded') c.succeeded++;
    else c.failed++;
    const early = this.earlyStop.check(error);
    if (this.stopping) return;
    const rule = this.p.halt;
    if (early) {
      this.builder.stopped = { reason: 'early', message: early };
      this.builder.note(`Stopped early: ${early}`);
      this.stop('halted', 'soon');
    } else if (rule && haltReached(rule, c)) {
      const message = haltSentence(rule, c);
      this.builder.stopped = { reason: 'halt', message, rule: haltText(rule) };
      this.builder.note(message);
      this.stop('halted', rule.when);
    }
  }

  private onWorkerEvent(e: TaskWorkerEvent): void {
    if (e.type !== 'spawned') return;
    const f = this.inFlight.get(e.index);
    if (!f || f.attempt !== e.attempt) return;
    f.pgid = e.pid;
    this.kills?.spawned(e.pid, !!this.stopping && this.stopHow === 'now');
  }

  /** Events of the results being settled as one (see asOne), emitted after their records are written. */
  private held: RunEvent[] | undefined;

  /**
   * Settles several results as one (a chunk of a batch's): their journal lines in one write, then their
   * results rows, then their events, in order (records first, as for one task).
   */
  private asOne(settle: () => void): void {
    this.held = [];
    this.journal.cork();
    this.results?.cork();
    try {
      settle();
    } finally {
      this.journalWrite(() => this.journal.uncork());
      this.resultsWrite(() => this.results?.uncork());
      const held = this.held;
      this.held = undefined;
      for (const e of held) this.emit(e);
    }
  }

  private journalWrite(write: () => void): void {
    try {
      write();
    } catch (e) {
      this.journaled -= (e as { unwritten?: number }).unwritten ?? 0;
      this.journalFailed = true;
      if (isDiskFull(e)) this.diskFull(this.journal.file);
      else this.builder.note(`Could not write the journal (${(e as Error).message}): resume may redo some files.`);
    }
  }

  private resultsWrite(write: () => void): void {
    try {
      write();
    } catch (e) {
      this.results = undefined;
      this.builder.note(`Could not write results.csv / results.ndjson (${(e as Error).message}): the journal has every result; a --resume writes them again.`);
      if (isDiskFull(e)) this.diskFull(this.p.outDir);
    }
  }

  /** Files journaled in this session; where the disk filled up (the run stopped there). */
  private journaled = 0;
  /** a journal line could not be written: the completions file stays for the next resume */
  private journalFailed = false;
  private diskFullAt: string | undefined;

  /** A full disk under the journal or the logs: nothing more can be recorded, so the run stops now. */
  private diskFull(where: string): void {
    if (this.diskFullAt) return;
    this.diskFullAt = where;
    this.stop('halted');
  }

  /**
   * Cancel (user) or halt (a --halt rule, the early stop): start nothing more; `now` kills every running
   * task's group, `soon` lets running tasks finish (a cancel during that kills them after all).
   */
  stop(why: 'cancelled' | 'halted', how: 'now' | 'soon' = 'now'): void {
    if (this.stopping && (this.stopHow === 'now' || how === 'soon')) return;
    if (why === 'cancelled') this.emit({ type: 'runCancelled', t: Date.now() });
    if (!this.stopping) {
      this.stopping = why;
      const w = this.slotWaiter;
      this.slotWaiter = undefined;
      w?.(undefined);
      this.p.source.close();
    }
    this.stopHow = how;
    if (how === 'soon') {
      // the task workers refuse (or stop at once) any task that starts from now on
      this.kills?.refuseNew();
      return;
    }
    const groups: number[] = [];
    for (const f of this.inFlight.values()) if (f.pgid !== undefined) groups.push(f.pgid);
    this.kills?.stopAll(groups);
  }

  private finishing = false;
  private offAbort: (() => void) | undefined;
  private async finish(): Promise<void> {
    if (this.finishing) return;
    // a run that ended before its sampler started (nothing to run) still gets its CPU sample and load
    const sampling = this.startSampler();
    this.finishing = true;
    this.takeFirst()?.decline();
    this.offAbort?.();
    await sampling;
    if (this.sampler) {
      // the last (partial) interval too: a run shorter than a sampling period still has its CPU sample
      try {
        this.recordSample(this.sampler.sample());
      } catch {
        /* no /proc */
      }
      this.sampler.dispose();
    }
    this.load?.stop();
    const b = this.builder;
    b.endedAt = Date.now();
    this.memGate?.close();
    for (const n of this.memGate?.notes() ?? []) b.note(n);
    for (const n of this.p.source.notes?.() ?? []) b.note(n);
    if (this.diskFullAt) {
      b.note(diskFullNote(this.diskFullAt, this.journaled + b.counts.skipped));
    }
    b.status = this.stopping === 'cancelled' ? 'cancelled' : this.stopping === 'halted' ? 'halted' : b.counts.failed + b.counts.timedOut > 0 ? 'failed' : 'succeeded';
    try {
      await this.pool.terminate(false, 5000);
    } catch {
      /* workers already gone */
    }
    // Every task has exited, but members of a killed group that ignored SIGTERM, or (on cancel/halt)
    // grandchildren that left their group, may remain: the run is over, so they go now (and the cgroups)
    const cgroupNote = await this.kills?.end(!!this.stopping);
    if (cgroupNote) b.note(cgroupNote);
    this.oom?.close();
    this.journal.close();
    // every task of this session is journaled: what the hosts recorded of them is of no more use
    if (!this.journalFailed && this.p.host?.doneFile) dropCompletions(this.p.outDir);
    try {
      await this.results?.close(path.join(this.p.outDir, RUN_FILES.journal), this.p.def.fingerprint);
    } catch (e) {
      this.builder.note(`Could not write results.csv / results.ndjson (${(e as Error).message}): the journal has every result; a --resume writes them again.`);
    }
    const report = await writeRunEnd(this.p.outDir, this.p.def, b, { fullAt: this.diskFullAt, journaled: this.journaled });
    this.p.lock?.release();
    this.emit({ type: 'runFinished', report, t: Date.now() });
    this.resolveDone(report);
  }
}
