/** package.json#contributes must match the ids in code: a typo fails here, not for a user. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Commands, CONFIG_SECTION, Settings, Views, WALKTHROUGH, TASK_TYPE } from '../../extension/shared/ids';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const contributes = pkg.contributes;

describe('manifest vs ids', () => {
  it('declares exactly the commands in ids.ts, each with category "Parallel Run"', () => {
    const declared = contributes.commands.map((c: { command: string }) => c.command).sort();
    assert.deepStrictEqual(declared, Object.values(Commands).sort());
    for (const c of contributes.commands) {
      assert.strictEqual(c.category, 'Parallel Run', `${c.command} has no category`);
      assert.match(c.command, /^parallelRun\./);
    }
  });

  it('every menu entry names a declared command', () => {
    const ids = new Set(Object.values(Commands) as string[]);
    for (const [menu, entries] of Object.entries(contributes.menus as Record<string, Array<{ command: string }>>)) {
      for (const e of entries) assert.ok(ids.has(e.command), `menu ${menu} names unknown command ${e.command}`);
    }
  });

  it('declares exactly the settings in ids.ts', () => {
    const declared = contributes.configuration.flatMap((s: { properties: object }) => Object.keys(s.properties)).sort();
    assert.deepStrictEqual(declared, Object.values(Settings).map((k) => `${CONFIG_SECTION}.${k}`).sort());
  });

  it('declares the views, walkthrough and task type in ids.ts', () => {
    assert.ok(contributes.viewsContainers.activitybar.some((c: { id: string }) => c.id === Views.container));
    assert.ok(contributes.views[Views.container].some((v: { id: string }) => v.id === Views.runs));
    assert.ok(contributes.walkthroughs.some((w: { id: string }) => w.id === WALKTHROUGH));
    assert.ok(contributes.taskDefinitions.some((t: { type: string }) => t.type === TASK_TYPE));
  });

  it('meets the platform constraints (engine, trust, bin, no "*" activation)', () => {
    assert.strictEqual(pkg.name, 'parallel-run');
    assert.strictEqual(pkg.displayName, 'Parallel Run');
    const min = /(\d+)\.(\d+)/.exec(pkg.engines.vscode)!;
    assert.ok(Number(min[1]) === 1 && Number(min[2]) <= 100, `engines.vscode ${pkg.engines.vscode} is newer than the 1.100 test host`);
    assert.ok(pkg.capabilities.untrustedWorkspaces, 'untrustedWorkspaces not declared');
    assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('parallelRun.python.path'));
    assert.strictEqual(pkg.bin['parallel-run'], './dist/cli.js');
    assert.match(pkg.main, /^\.\/dist\//);
    assert.ok(!pkg.activationEvents.includes('*'), '"*" activation is not allowed');
  });

  it('ships media files the manifest references', () => {
    for (const w of contributes.walkthroughs) for (const s of w.steps) {
      if (s.media?.markdown) assert.ok(fs.existsSync(path.join(ROOT, s.media.markdown)), `missing ${s.media.markdown}`);
    }
    assert.ok(fs.existsSync(path.join(ROOT, contributes.viewsContainers.activitybar[0].icon)));
  });
});
