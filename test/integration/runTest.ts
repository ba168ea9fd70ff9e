/**
 * Integration entry: the conventional @vscode/test-electron runTests(), pointed at our launcher
 * (scripts/vscode-test-host.js) instead of a desktop VS Code download (impossible offline). The
 * launcher runs the suites inside code-server's REAL Node extension host.
 *
 * The layer is several launches (profiles), because some behaviour is fixed when the window opens:
 *   main             every test/integration/*.test.js, trusted window (trust disabled)
 *   untrusted        test/integration/untrusted/: Workspace Trust ON and the folder NOT trusted
 *   pythonExtension  test/integration/pythonExtension/: a stand-in ms-python.python installed beside us
 * Their pass/fail lists are merged into $VSCODE_TEST_RESULTS_FILE (titles prefixed by the profile
 * for the extra launches), so `npm test` counts all of them.
 *
 * Usage: node out/test/integration/runTest.js [--profile main,untrusted,pythonExtension]
 *                                             [--suite <tests index.js>] [--workspace <dir>]
 * `--suite` alone runs one main-profile launch of that suite (the harness self-test uses it).
 * Exit code: 0 passed, 1 failed, 2 timeout, 3 infrastructure error (the worst of the launches).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runTests } from '@vscode/test-electron';

const ROOT = path.resolve(__dirname, '..', '..', '..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Profile {
  name: string;
  suite: string;
  /** Extensions loaded beside ours (extra extensionDevelopmentPaths: the launcher installs them). */
  extraExtensions?: string[];
  /** Written to <workspace>/.vscode/settings.json before the window opens. */
  workspaceSettings?: Record<string, unknown>;
  /** Environment of the launcher (read by scripts/vscode-test-host.js) and the extension host. */
  env?: Record<string, string>;
  /** Seconds for the whole launch. */
  timeoutSec: number;
}

const PROFILES: Profile[] = [
  // the whole main layer (real processes, Slurm, sweeps) runs in one extension host: give it time on a
  // loaded 2-core machine; the launcher's own default (600 s) is for one small suite
  { name: 'main', suite: path.join(__dirname, 'index.js'), timeoutSec: 3000 },
  {
    name: 'untrusted',
    suite: path.join(__dirname, 'untrusted', 'index.js'),
    env: { PR_TEST_TRUST: 'untrusted' },
    // a restricted setting (package.json capabilities.untrustedWorkspaces.restrictedConfigurations):
    // an untrusted folder must not be able to choose the executable we would start
    workspaceSettings: { 'parallelRun.python.path': '/untrusted/bin/python-from-workspace' },
    timeoutSec: 600,
  },
  {
    name: 'pythonExtension',
    suite: path.join(__dirname, 'pythonExtension', 'index.js'),
    // and a stand-in Python Debugger (debugpy debug type) for "Debug This File"
    extraExtensions: [path.join(ROOT, 'test', 'fixtures', 'python-extension-standin'), path.join(ROOT, 'test', 'fixtures', 'debugpy-standin')],
    timeoutSec: 900,
  },
];

/** A fresh copy of the fixture workspace, so tests can write run directories freely. */
function freshWorkspace(settings?: Record<string, unknown>): string {
  const src = arg('workspace') ?? path.join(ROOT, 'test', 'fixtures', 'workspace');
  const dst = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-it-ws-'));
  if (fs.existsSync(src)) fs.cpSync(src, dst, { recursive: true });
  if (settings) {
    fs.mkdirSync(path.join(dst, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(dst, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
  }
  return dst;
}

interface Results {
  passes: string[];
  failures: Array<{ title: string; error: string }>;
  pending?: string[];
}

async function launch(p: Profile, suite: string, resultsFile: string): Promise<number> {
  const workspace = freshWorkspace(p.workspaceSettings);
  // a private user-data dir per launch: no state leaks between launches, and two launches (e.g. two
  // developers' test runs) can share the machine
  const userData = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-it-user-'));
  const env: Record<string, string> = {
    PR_TEST_WORKSPACE: workspace,
    PR_TEST_ROOT: ROOT,
    PR_TEST_PROFILE: p.name,
    VSCODE_TEST_RESULTS_FILE: resultsFile,
    VSCODE_TEST_TIMEOUT: process.env.VSCODE_TEST_TIMEOUT ?? String(p.timeoutSec),
    ...(p.env ?? {}),
    ...(process.env.PR_TEST_GREP ? { PR_TEST_GREP: process.env.PR_TEST_GREP } : {}),
  };
  console.log(`\n----- integration launch "${p.name}" (${path.relative(ROOT, suite)}) -----`);
  try {
    await runTests({
      vscodeExecutablePath: path.join(ROOT, 'scripts', 'vscode-test-host.js'),
      extensionDevelopmentPath: [ROOT, ...(p.extraExtensions ?? [])],
      extensionTestsPath: suite,
      launchArgs: [workspace, `--user-data-dir=${userData}`],
      // runTests passes these to the launcher's environment too, which hands them to code-server
      extensionTestsEnv: env,
    });
    return 0;
  } catch (err) {
    // runTests rejects with "Failed" / exit code for a failing suite
    const m = /(\d+)/.exec(String((err as Error)?.message ?? err));
    console.error(`Integration launch "${p.name}" failed: ${(err as Error)?.message ?? err}`);
    return m && Number(m[1]) > 1 ? Number(m[1]) : 1;
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
    fs.rmSync(userData, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const suiteArg = arg('suite');
  const wanted = (arg('profile') ?? (suiteArg ? 'main' : PROFILES.map((p) => p.name).join(','))).split(',');
  const unknown = wanted.filter((w) => !PROFILES.some((p) => p.name === w));
  if (unknown.length) {
    console.error(`unknown --profile ${unknown.join(', ')}; use one or more of ${PROFILES.map((p) => p.name).join(', ')}`);
    return 3;
  }
  const out = process.env.VSCODE_TEST_RESULTS_FILE;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-it-results-'));
  const merged: Results = { passes: [], failures: [] };
  let worst = 0;
  const profiles = PROFILES.filter((x) => wanted.includes(x.name));
  const start = (p: Profile) => {
    const file = path.join(tmp, `${p.name}.json`);
    const suite = path.resolve(suiteArg && p.name === 'main' ? suiteArg : p.suite);
    return launch(p, suite, file).then((code) => ({ p, file, code }));
  };
  // the main launch first; the small ones (untrusted window, Python-extension stand-in) then run
  // side by side: each is mostly its host's start-up and short waits
  const mainFirst = profiles.filter((p) => p.name === 'main');
  const done = [];
  for (const p of mainFirst) done.push(await start(p));
  done.push(...(await Promise.all(profiles.filter((p) => p.name !== 'main').map(start))));
  for (const { p, file, code } of done) {
    worst = Math.max(worst, code);
    // the main launch keeps its plain titles (the harness self-test and older reports read them)
    const title = (t: string) => (p.name === 'main' ? t : `[${p.name}] ${t}`);
    try {
      const r = JSON.parse(fs.readFileSync(file, 'utf8')) as Results;
      merged.passes.push(...r.passes.map(title));
      merged.failures.push(...r.failures.map((f) => ({ ...f, title: title(f.title) })));
    } catch {
      // a launch that did not report (crash, timeout before mocha ended) counts as a failure
      merged.failures.push({ title: `[${p.name}] integration launch`, error: `did not report results (exit ${code})` });
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  if (out) fs.writeFileSync(out, JSON.stringify(merged, null, 2));
  if (wanted.length > 1) console.log(`integration (${wanted.join(' + ')}): ${merged.passes.length} passed, ${merged.failures.length} failed`);
  return worst === 0 && merged.failures.length > 0 ? 1 : worst;
}

main().then((c) => process.exit(c));
