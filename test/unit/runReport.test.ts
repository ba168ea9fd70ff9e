/**
 * What a run writes about itself besides the journal (core/run/runReport.ts): a finished task's
 * record (mode, argv as shown, rounded CPU, the result it reported) and the run's end: run.json with
 * the session closed, report.json with every record of the session (from the journal when the report
 * kept only some), a failed run with a note when report.json cannot be written.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { RunTaskParams, RunTaskResult } from '../../extension/shared/workerApi';
import { fsDecode } from '../../extension/core/run/fsNames';
import { JournalWriter } from '../../extension/core/run/journal';
import { ReportBuilder } from '../../extension/core/run/report';
import { diskFullNote, taskRecord, writeRunEnd } from '../../extension/core/run/runReport';
import { RUN_FILES, type RunDefinition, type TaskCommand } from '../../extension/core/run/types';

const T0 = 1_700_000_000_000;

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pr-runreport-'));
}

function def(): RunDefinition {
  return {
    version: 1, runId: 'r1', backend: 'local', fingerprint: 'fp', command: { kind: 'template', argv: ['/bin/true', '{}'] },
    files: { kind: 'list', files: [] }, cwd: '/data', workers: 2, threads: 1, timeoutSec: 0, retries: 0, halt: false, env: {}, threadEnv: {},
    cores: { logical: 2, physical: 1 }, createdAt: T0, sessions: [{ session: 's1', startedAt: T0, pid: 1, resume: false }],
  } as RunDefinition;
}

function params(dir: string, argv: string[], slot = 1): RunTaskParams {
  return { index: 1, slot, attempt: 1, argv, cwd: dir, stdoutLog: path.join(dir, 'a.out'), stderrLog: path.join(dir, 'a.err'), timeoutMs: 0, env: {} };
}

function result(over: Partial<RunTaskResult> = {}): RunTaskResult {
  return { start: T0, end: T0 + 1500, exitCode: 0, signal: null, cpuUserSec: 0.12345, cpuSysSec: 0.0004, maxRssKb: 2048, stdoutTail: 'working\n{"loss": 0.5}\n', stderrTail: '', timedOut: false, measured: 'wait4', ...over };
}

describe('run report: records and the run end on disk', () => {
  it('a task record: times, CPU to the microsecond, logs by stem, argv as shown, the result from its last stdout line', () => {
    const dir = tmp();
    const raw = fsDecode(Buffer.from([0x61, 0xff, 0x2e, 0x74]));
    const cmd: TaskCommand = { kind: 'template', argv: ['/bin/echo', '{}'] };
    const rec = taskRecord({ index: 7, file: raw, st: undefined, stem: '000007-a_.t', status: 'succeeded', attempts: 2, params: params(dir, ['/bin/echo', raw], 2), result: result() }, cmd, { OMP_NUM_THREADS: '1' });
    assert.strictEqual(rec.index, 7);
    assert.strictEqual(rec.slot, 2);
    assert.strictEqual(rec.attempts, 2);
    assert.strictEqual(rec.wallMs, 1500);
    assert.strictEqual(rec.cpuUserSec, 0.12345);
    assert.strictEqual(rec.cpuSysSec, 0.0004, 'not rounded away: 0.4 ms of a short task counts');
    assert.strictEqual(taskRecord({ index: 7, file: raw, st: undefined, stem: '000007-a_.t', status: 'succeeded', attempts: 1, params: params(dir, ['/bin/echo', raw], 2), result: result({ cpuUserSec: 0.0001234567 }) }, cmd, {}).cpuUserSec, 0.000123);
    assert.strictEqual(rec.stdoutLog, 'logs/000007-a_.t.out');
    assert.strictEqual(rec.mode, 'cold');
    assert.deepStrictEqual(rec.result, { loss: 0.5 });
    assert.deepStrictEqual(rec.threadEnv, { OMP_NUM_THREADS: '1' });
    // a name that is not UTF-8: exact bytes in fileBytes; file and argv show it (U+FFFD for the bad byte)
    assert.strictEqual(Buffer.from(rec.fileBytes!, 'base64').toString('hex'), '61ff2e74');
    assert.strictEqual(rec.file, 'a\ufffd.t');
    assert.deepStrictEqual(rec.argv, ['/bin/echo', 'a\ufffd.t']);
  });

  it('a record says how the task ran (cold, warm, call), gives argv only for templates, and keeps its error and tuple', () => {
    const dir = tmp();
    const base = { index: 1, file: 'a.txt', st: undefined, stem: '000001-a.txt', status: 'failed' as const, attempts: 1, params: params(dir, ['a.txt']), result: result({ exitCode: 3, stdoutTail: '' }) };
    const py = (warm: boolean, call?: string): TaskCommand => ({ kind: 'python', python: '/usr/bin/python3', script: '/s.py', args: [], warm, ...(call ? { call } : {}) });
    assert.strictEqual(taskRecord(base, py(false), {}).mode, 'cold');
    assert.strictEqual(taskRecord(base, py(true), {}).mode, 'warm');
    assert.strictEqual(taskRecord(base, py(false, 'f'), {}).mode, 'call');
    assert.strictEqual(taskRecord(base, py(true), {}).argv, undefined);
    const error = { kind: 'exit', key: 'exit 3', title: 'exit code 3' } as never;
    const rec = taskRecord({ ...base, error, tuple: { layout: { resultNames: ['mu'] } as never, values: ['0.5'] } }, py(false), {});
    assert.deepStrictEqual(rec.error, error);
    assert.deepStrictEqual(rec.inputs, ['0.5']);
    assert.strictEqual(rec.result, undefined, 'nothing on stdout: no result');
  });

  it('the run end: run.json gets the session closed, report.json every record', async () => {
    const dir = tmp();
    const d = def();
    const b = new ReportBuilder(d, T0);
    const cmd = d.command;
    for (let i = 1; i <= 3; i++) b.add(taskRecord({ index: i, file: `f${i}`, st: undefined, stem: `00000${i}-f${i}`, status: 'succeeded', attempts: 1, params: params(dir, ['/bin/true', `f${i}`]), result: result() }, cmd, {}));
    b.endedAt = T0 + 5000;
    b.status = 'succeeded';
    const report = await writeRunEnd(dir, d, b, { fullAt: undefined, journaled: 3 });
    assert.strictEqual(report.status, 'succeeded');
    const runJson = JSON.parse(fs.readFileSync(path.join(dir, RUN_FILES.definition), 'utf8')) as RunDefinition;
    assert.deepStrictEqual({ endedAt: runJson.sessions[0].endedAt, status: runJson.sessions[0].status }, { endedAt: T0 + 5000, status: 'succeeded' });
    const onDisk = JSON.parse(fs.readFileSync(path.join(dir, RUN_FILES.report), 'utf8'));
    assert.deepStrictEqual(onDisk.tasks.map((t: { index: number }) => t.index), [1, 2, 3]);
    assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  });

  it('a report too big for memory is written from the journal: every record of this session, none of another', async () => {
    const dir = tmp();
    const d = def();
    const b = new ReportBuilder(d, T0, 2); // keeps 2 records in memory
    const journal = new JournalWriter(path.join(dir, RUN_FILES.journal));
    const older = taskRecord({ index: 9, file: 'old', st: undefined, stem: '000009-old', status: 'succeeded', attempts: 1, params: params(dir, ['/bin/true', 'old']), result: result() }, d.command, {});
    journal.append({ ...older, fp: 'fp', session: 's0' });
    for (let i = 1; i <= 6; i++) {
      const rec = taskRecord({ index: i, file: `f${i}`, st: undefined, stem: `00000${i}-f${i}`, status: 'succeeded', attempts: 1, params: params(dir, ['/bin/true', `f${i}`]), result: result() }, d.command, {});
      journal.append({ ...rec, fp: 'fp', session: 's1' });
      b.add(rec);
    }
    journal.close();
    assert.ok(b.omitted > 0, 'the builder dropped records');
    b.endedAt = T0 + 9000;
    b.status = 'succeeded';
    await writeRunEnd(dir, d, b, { fullAt: undefined, journaled: 6 });
    const onDisk = JSON.parse(fs.readFileSync(path.join(dir, RUN_FILES.report), 'utf8'));
    assert.deepStrictEqual(onDisk.tasks.map((t: { index: number }) => t.index), [1, 2, 3, 4, 5, 6]);
  });

  it('report.json that cannot be written: the run did not succeed, and a note says why', async () => {
    const dir = tmp();
    const d = def();
    const b = new ReportBuilder(d, T0);
    b.endedAt = T0 + 1000;
    b.status = 'succeeded';
    fs.mkdirSync(path.join(dir, RUN_FILES.report)); // a directory where report.json goes
    fs.writeFileSync(path.join(dir, RUN_FILES.report, 'x'), '');
    const report = await writeRunEnd(dir, d, b, { fullAt: undefined, journaled: 0 });
    assert.strictEqual(report.status, 'failed');
    assert.ok(report.notes.some((n) => n.startsWith('Could not write report.json: ')), JSON.stringify(report.notes));
    assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
  });

  it('a full disk is told with where it filled, what is safe, and what to do', () => {
    assert.strictEqual(diskFullNote('/runs/r1/logs', 42), 'disk full at /runs/r1/logs: 42 files done and journaled; free space and Resume (--resume).');
  });
});
