/**
 * The interpreter comes from the Python extension's API (@vscode/python-extension) when ms-python.python
 * is installed. This launch loads test/fixtures/python-extension-standin beside us: a STAND-IN with the
 * real extension's id and API shape, because the real one cannot be installed offline. Our code path
 * (PythonExtension.api() -> environments.getActiveEnvironmentPath/resolveEnvironment, the
 * onDidChangeActiveEnvironmentPath subscription) is the real one, and the interpreters are real: a venv
 * made here and the machine's Python, selected with updateActiveEnvironmentPath as "Python: Select
 * Interpreter" does.
 */
import * as assert from 'assert';
import { execFile, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import * as vscode from 'vscode';
import { PythonExtension } from '@vscode/python-extension';
import type { RunReport } from '../../../extension/core/run/types';
import { Commands } from '../../../extension/shared/ids';
import { folder, rejection, runDirOf, services, waitFor, ws } from '../runHelpers';

/** Prints which interpreter runs it: the task's stdout log shows it. */
const WHICH_PYTHON = `import sys
print(f"executable={sys.executable}")
print(f"prefix={sys.prefix}")
`;

function python(exe: string, code: string): string {
  const r = spawnSync(exe, ['-c', code], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, `${exe} -c ${code}: ${r.stderr}`);
  return r.stdout.trim();
}

function runDirs(): string[] {
  const root = ws('.parallel-run', 'runs');
  return fs.existsSync(root) ? fs.readdirSync(root).sort() : [];
}

/** Every task's stdout log of a run, concatenated. */
function stdoutLogs(runDir: string): string {
  const logs = path.join(runDir, 'logs');
  return fs.readdirSync(logs).filter((f) => f.endsWith('.out')).sort().map((f) => fs.readFileSync(path.join(logs, f), 'utf8')).join('\n');
}

async function runWhichPython(label: string): Promise<{ report: RunReport; runDir: string }> {
  const report = (await vscode.commands.executeCommand(Commands.runScript, {
    script: 'which_python.py', files: 'data/a0[1-3].txt', workers: 2, wait: true, openReport: false, label,
  })) as RunReport;
  assert.strictEqual(report.status, 'succeeded', JSON.stringify(report.counts));
  return { report, runDir: runDirOf(report) };
}

describe('interpreter from the Python extension (stand-in ms-python.python)', function () {
  this.timeout(120_000);
  let api: PythonExtension;
  let basePython: string;
  let basePrefix: string;
  let venvDir: string;
  let venvPython: string;
  let ctx: vscode.ExtensionContext;

  before(async function () {
    this.timeout(180_000);
    const ext = vscode.extensions.getExtension('ms-python.python');
    assert.ok(ext, 'the stand-in is loaded as ms-python.python');
    assert.match(String(ext.packageJSON.displayName), /stand-in/, 'this is the stand-in, not the real extension');
    api = await PythonExtension.api();
    ctx = (await services()).context as vscode.ExtensionContext;
    // the machine's Python resolved once (python3 on PATH is a pyenv shim), and a real venv of it
    basePython = python('python3', 'import sys; print(sys.executable)');
    basePrefix = python(basePython, 'import sys; print(sys.prefix)');
    venvDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pr-it-venv-')), 'venv');
    // asynchronously: a synchronous wait would freeze the extension host for seconds
    await promisify(execFile)(basePython, ['-m', 'venv', '--without-pip', '--system-site-packages', venvDir], { timeout: 120_000 });
    venvPython = path.join(venvDir, 'bin', 'python');
    assert.strictEqual(python(venvPython, 'import sys; print(sys.prefix)'), venvDir, 'the venv is its own prefix');
    fs.writeFileSync(ws('which_python.py'), WHICH_PYTHON);
  });

  after(() => {
    if (venvDir) fs.rmSync(path.dirname(venvDir), { recursive: true, force: true });
  });

  it('a run uses the interpreter selected in the Python extension (a venv), and the log says where it came from', async () => {
    await api.environments.updateActiveEnvironmentPath(venvPython, folder().uri);
    const { report, runDir } = await runWhichPython('under the venv');
    assert.strictEqual(report.python?.executable, venvPython, 'the report records the venv interpreter');
    const out = stdoutLogs(runDir);
    assert.strictEqual(out.match(/prefix=(.*)/g)?.length, 3, out);
    assert.ok(out.split('\n').filter((l) => l.startsWith('prefix=')).every((l) => l === `prefix=${venvDir}`), `every task ran in the venv:\n${out}`);
    const resolved = await (await services()).python.resolve(folder());
    assert.strictEqual(resolved.source, 'pythonExtension');
    // the Parallel Run log channel names the source
    const logFile = path.join(ctx.logUri.fsPath, 'Parallel Run.log');
    await waitFor('the interpreter line in the log', () =>
      fs.existsSync(logFile) &&
      fs.readFileSync(logFile, 'utf8').split('\n').some((l) => l.includes(`Python: ${venvPython}`) && l.includes("from the Python extension's selected interpreter")));
  });

  it('switching the active environment makes the next run use the new interpreter (cache invalidated by the event)', async () => {
    const py = (await services()).python;
    assert.strictEqual((await py.resolve(folder())).executable, venvPython, 'cached: the venv');
    let fired = 0;
    const sub = api.environments.onDidChangeActiveEnvironmentPath(() => fired++);
    try {
      await api.environments.updateActiveEnvironmentPath(basePython, folder().uri);
    } finally {
      sub.dispose();
    }
    assert.strictEqual(fired, 1, 'the Python extension announced the change');
    const { report, runDir } = await runWhichPython('under the base python');
    assert.strictEqual(report.python?.executable, basePython);
    const prefixes = new Set(stdoutLogs(runDir).split('\n').filter((l) => l.startsWith('prefix=')));
    assert.deepStrictEqual([...prefixes], [`prefix=${basePrefix}`], 'every task ran outside the venv');
    assert.notStrictEqual(basePrefix, venvDir);
  });

  it('a selected interpreter that does not exist: a clear error naming it and the fix, nothing started', async () => {
    const missing = path.join(venvDir, 'gone', 'bin', 'python3');
    await api.environments.updateActiveEnvironmentPath(missing, folder().uri);
    const before = runDirs();
    const msg = await rejection(vscode.commands.executeCommand(Commands.runScript, {
      script: 'which_python.py', files: 'data/a0[1-3].txt', wait: true, openReport: false,
    }));
    assert.ok(msg.includes(`"${missing}"`), msg);
    assert.match(msg, /the Python extension's selected interpreter/);
    assert.match(msg, /Pick a working one with "Python: Select Interpreter"/);
    assert.deepStrictEqual(runDirs(), before, 'no run directory');
    // fixing the selection fixes the next run (the failure was not cached)
    await api.environments.updateActiveEnvironmentPath(venvPython, folder().uri);
    const { report } = await runWhichPython('fixed selection');
    assert.strictEqual(report.python?.executable, venvPython);
  });
});
