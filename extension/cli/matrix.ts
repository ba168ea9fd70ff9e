/** `parallel-run matrix`: the ml-matrix chunked product on worker threads, 1 worker vs N. */
import * as path from 'path';
import { formatMatrixDemo, runMatrixDemo } from '../core/demos/matrixDemo';
import { CliContext, EXIT, noPositionals, parseCommandLine, positive } from './args';

export const MATRIX_USAGE = `usage: parallel-run matrix [--workers 1,N] [--blocks 10] [--json]

The tutorial's chunked mat · matᵀ (1000 x 1500) with ml-matrix on worker threads, 1 worker vs N,
checked against the serial product.`;

const MATRIX_OPTIONS = {
  workers: { type: 'string' },
  blocks: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommandLine('matrix', argv, MATRIX_OPTIONS);
  noPositionals('matrix', parsed);
  const v = parsed.values;
  const workerCounts = v.workers?.split(',').map((x) => Math.round(positive('--workers', x)));
  const blocks = v.blocks !== undefined ? Math.round(positive('--blocks', v.blocks)) : undefined;
  if (v.help) {
    process.stdout.write(MATRIX_USAGE + '\n');
    return EXIT.ok;
  }
  const r = await runMatrixDemo({ workersDir: path.join(ctx.distDir, 'workers'), workerCounts, blocks });
  process.stdout.write(v.json ? JSON.stringify(r, null, 1) + '\n' : formatMatrixDemo(r) + '\n');
  return r.maxAbsDiff < 1e-9 ? EXIT.ok : EXIT.failed;
}
