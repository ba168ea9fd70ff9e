/**
 * Integration entry: the conventional @vscode/test-electron runTests(), pointed at our launcher
 * (scripts/vscode-test-host.js) instead of a desktop VS Code download (impossible offline). The
 * launcher runs the suites inside code-server's REAL Node extension host.
 * Usage: node out/test/integration/runTest.js [--suite <tests index.js>] [--workspace <dir>]
 * Exit code: 0 passed, 1 failed, 2 timeout, 3 infrastructure error.
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

/** A fresh copy of the fixture workspace, so tests can write run directories freely. */
function freshWorkspace(): string {
  const src = arg('workspace') ?? path.join(ROOT, 'test', 'fixtures', 'workspace');
  const dst = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-it-ws-'));
  if (fs.existsSync(src)) fs.cpSync(src, dst, { recursive: true });
  return dst;
}

async function main(): Promise<number> {
  // the whole integration layer (real processes, Slurm, sweeps) runs in one extension host: give it
  // time on a loaded 2-core machine; the launcher's own default (600 s) is for one small suite
  process.env.VSCODE_TEST_TIMEOUT ??= '3000';
  const workspace = freshWorkspace();
  const suite = path.resolve(arg('suite') ?? path.join(__dirname, 'index.js'));
  try {
    await runTests({
      vscodeExecutablePath: path.join(ROOT, 'scripts', 'vscode-test-host.js'),
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: suite,
      launchArgs: [workspace],
      extensionTestsEnv: {
        PR_TEST_WORKSPACE: workspace,
        PR_TEST_ROOT: ROOT,
        ...(process.env.PR_TEST_GREP ? { PR_TEST_GREP: process.env.PR_TEST_GREP } : {}),
      },
    });
    return 0;
  } catch (err) {
    // runTests rejects with "Failed" / exit code for a failing suite
    const m = /(\d+)/.exec(String((err as Error)?.message ?? err));
    console.error(`Integration tests failed: ${(err as Error)?.message ?? err}`);
    return m && Number(m[1]) > 1 ? Number(m[1]) : 1;
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().then((c) => process.exit(c));
