/**
 * extensionTestsPath of the "pythonExtension" launch (runTest.ts profile): a stand-in for the Python
 * extension (test/fixtures/python-extension-standin) is loaded beside ours.
 */
import { runSuiteFolder } from '../untrusted/index';

export function run(): Promise<void> {
  return runSuiteFolder(__dirname);
}
