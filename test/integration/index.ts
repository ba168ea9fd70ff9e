/**
 * extensionTestsPath entry: the extension host require()s this and awaits run(). Runs every
 * out/test/integration/*.test.js with mocha and writes {passes, failures} to
 * $VSCODE_TEST_RESULTS_FILE for the launcher's closing "N passed, M failed" line.
 */
import * as fs from 'fs';
import * as path from 'path';
import Mocha = require('mocha');

export function run(): Promise<void> {
  const files = (process.env.PR_TEST_FILES ? process.env.PR_TEST_FILES.split(',') : fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')))
    .sort()
    .map((f) => path.resolve(__dirname, f));
  return runMocha(files);
}

/** Shared by the deliberately failing suite used by the harness self-test. */
export function runMocha(files: string[]): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec' });
  if (process.env.PR_TEST_GREP) mocha.grep(new RegExp(process.env.PR_TEST_GREP));
  for (const f of files) mocha.addFile(f);
  // Node's leak warnings in this extension host (they land in its log): the whole launch is one check
  const leaks: string[] = [];
  const onWarning = (w: Error) => { if (w.name === 'MaxListenersExceededWarning') leaks.push(w.message); };
  process.on('warning', onWarning);
  return new Promise((resolve, reject) => {
    const results = { passes: [] as string[], failures: [] as Array<{ title: string; error: string }>, pending: [] as string[] };
    const suiteMs: Array<[string, number]> = [];
    const runner = mocha.run((failures) => {
      process.off('warning', onWarning);
      if (leaks.length) {
        results.failures.push({ title: 'extension host: a MaxListenersExceededWarning during the suite', error: leaks.join('\n') });
        failures++;
      }
      // wall time per top-level suite (hooks included), slowest first: information for CI time only
      suiteMs.sort((a, b) => b[1] - a[1]);
      console.log(`suite times: ${suiteMs.map(([t, ms]) => `${t} ${(ms / 1000).toFixed(1)} s`).join(' | ')}`);
      const out = process.env.VSCODE_TEST_RESULTS_FILE;
      if (out) fs.writeFileSync(out, JSON.stringify(results, null, 2));
      if (failures > 0 || results.pending.length > 0) reject(new Error(`${failures} test(s) failed, ${results.pending.length} skipped.`));
      else resolve();
    });
    runner.on('pass', (t) => results.passes.push(t.fullTitle()));
    const started = new Map<Mocha.Suite, number>();
    runner.on('suite', (s) => { if (s.parent?.root) started.set(s, Date.now()); });
    runner.on('suite end', (s) => { const t0 = started.get(s); if (t0 !== undefined) suiteMs.push([s.title, Date.now() - t0]); });
    runner.on('fail', (t, err) => results.failures.push({ title: t.fullTitle(), error: String(err && (err as Error).message) }));
    // a skipped test is never counted as passing: it fails the layer
    runner.on('pending', (t) => results.failures.push({ title: t.fullTitle(), error: 'skipped (pending) tests are not allowed' }));
  });
}
