/**
 * The Runs view's context menus offer an action only where it applies: Cancel on a running run, Re-run
 * Failed only on a finished run with failures, Resume only where something is left to do, Delete never
 * on a running run. Evaluated from package.json's `when` clauses against the tree's context values.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8'));
const menus: Array<{ command: string; when: string; group?: string }> = pkg.contributes.menus['view/item/context'];

/** Commands whose `when` holds for this view item (view == parallelRun.runs && viewItem =~ /re/). */
function offered(contextValue: string): string[] {
  const out = new Set<string>();
  for (const m of menus) {
    const view = /view == ([\w.]+)/.exec(m.when)?.[1];
    const re = /viewItem =~ \/(.*)\/(\s|$)/.exec(m.when)?.[1];
    if (view !== 'parallelRun.runs' || re === undefined) continue;
    if (new RegExp(re).test(contextValue)) out.add(m.command.replace('parallelRun.', ''));
  }
  return [...out].sort();
}

describe('Runs view menus apply where they make sense', () => {
  const always = ['exportReport', 'openRunLogs', 'showReport'];
  const cases: Array<[string, string[]]> = [
    ['run.running', [...always, 'cancelRun']],
    ['run.running.hasFailures', [...always, 'cancelRun']],
    ['run.succeeded', [...always, 'deleteRun']],
    ['run.failed.hasFailures', [...always, 'deleteRun', 'rerunFailed', 'resumeLastRun']],
    ['run.halted.hasFailures', [...always, 'deleteRun', 'rerunFailed', 'resumeLastRun']],
    ['run.cancelled', [...always, 'deleteRun', 'resumeLastRun']],
    ['run.interrupted', [...always, 'deleteRun', 'resumeLastRun']],
    ['task.succeeded', []],
    ['task.failed', ['debugFile']],
    ['task.timedOut', ['debugFile']],
    ['failureGroup', ['copyFileList', 'debugFile', 'openTaskLog', 'rerunFiles']],
    ['failures', []],
  ];
  for (const [value, expected] of cases) {
    it(`${value}: ${expected.join(', ') || 'nothing'}`, () => {
      assert.deepStrictEqual(offered(value), [...expected].sort());
    });
  }
});
