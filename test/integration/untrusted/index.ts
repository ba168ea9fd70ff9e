/**
 * extensionTestsPath of the "untrusted" launch (runTest.ts profile): Workspace Trust is ON and the
 * folder is NOT trusted. Runs every *.test.js of this folder with the main index's mocha setup.
 */
import * as fs from 'fs';
import * as path from 'path';
import { runMocha } from '../index';

/** Every *.test.js directly in `dir` (the extra launches keep their suites in their own folder). */
export function runSuiteFolder(dir: string): Promise<void> {
  return runMocha(fs.readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort().map((f) => path.join(dir, f)));
}

export function run(): Promise<void> {
  return runSuiteFolder(__dirname);
}
