/** `parallel-run blas`: numpy's BLAS, its threads, and (--bench) 1 thread vs all cores. */
import * as path from 'path';
import { benchmarkBlas, formatBlasReport, inspectBlas } from '../core/python/blasProbe';
import { resolvePython } from '../core/python/interpreter';
import { logicalCores } from '../core/threads';
import { CliContext, EXIT, noPositionals, parseCommandLine, positive, pythonName } from './args';

export const BLAS_USAGE = `usage: parallel-run blas [--python PATH] [--bench N] [--json]

Shows numpy's BLAS (vendor, version, threading layer), its default and current thread counts and
the thread environment variables. --bench N also times mat.dot(mat.T) (1000 x 1500) N times with
1 thread and with all cores, each in a fresh process (the tutorial's benchmark).`;

const BLAS_OPTIONS = {
  python: { type: 'string' },
  bench: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommandLine('blas', argv, BLAS_OPTIONS);
  noPositionals('blas', parsed);
  const v = parsed.values;
  const bench = v.bench !== undefined ? Math.round(positive('--bench', v.bench)) : 0;
  if (v.help) {
    process.stdout.write(BLAS_USAGE + '\n');
    return EXIT.ok;
  }
  const mediaDir = path.join(ctx.distDir, '..', 'media');
  const py = await resolvePython(pythonName(v.python));
  const ins = await inspectBlas(py.executable, mediaDir);
  const cores = logicalCores();
  const b = bench > 0 && ins.current.numpy ? await benchmarkBlas(py.executable, mediaDir, { threadCounts: cores > 1 ? [1, cores] : [1], number: bench }) : undefined;
  process.stdout.write(v.json ? JSON.stringify({ ...ins, bench: b }, null, 1) + '\n' : formatBlasReport(ins, b, cores));
  return EXIT.ok;
}
