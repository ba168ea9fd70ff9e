/**
 * The entry of dist/cli.js: process set-up around `main` (heap cap for runs, closed pipes, exit
 * codes). Kept apart from main.ts so tests can import the CLI's modules without running it.
 */
import * as v8 from 'v8';
import { argsWithBytes } from '../core/run/fsNames';
import { UsageError } from '../core/run/types';
import { EXIT } from './args';
import { main } from './main';

// A run keeps its live data bounded (the latest task records; report.json is written from the
// journal), but V8 lets the heap grow with garbage far past that over a 100,000-file run: a modest
// old-generation cap keeps the runner's RSS flat. Not when the user chose a limit.
if (process.argv[2] === 'run' && !/max[-_]old[-_]space[-_]size/.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`)) {
  v8.setFlagsFromString('--max-old-space-size=96');
}
// `parallel-run ... | head`: a closed pipe must not crash the run (the tasks still finish and journal)
for (const s of [process.stdout, process.stderr]) s.on('error', (e: NodeJS.ErrnoException) => { if (e.code !== 'EPIPE') throw e; });
// dist/cli.js: its chunks, dist/workers and ../media are found from here; a file name that is not
// UTF-8 (`::: data/*`) keeps its bytes (see core/run/fsNames.ts)
main(argsWithBytes(process.argv.slice(2)), { distDir: __dirname }).then(
  (code) => {
    // let piped stdout drain before leaving
    process.stdout.write('', () => process.exit(code));
  },
  (err) => {
    process.stderr.write(`parallel-run: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof UsageError ? EXIT.usage : EXIT.failed);
  },
);
