/** Plain-Node command line over the core engine (no vscode). */
import { UsageError } from './core';

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write('usage: parallel-run run [options] -- <command template...>\n');
    return 0;
  }
  throw new UsageError(`unknown subcommand "${argv[0]}". Try "parallel-run --help".`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`parallel-run: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
