/**
 * The walkthrough matches the workspace `npm run example` opens (example/): its paths exist there, its
 * tasks.json snippet parses as VS Code reads tasks.json (JSON with comments) and fits the task type's
 * schema; step descriptions show no literal backticks (VS Code renders only links and bold there); every
 * step has its own media and ticks itself off with a completion event.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const walkthrough = pkg.contributes.walkthroughs[0];
const steps: Array<{ id: string; title: string; description: string; completionEvents?: string[]; media: { markdown?: string; image?: string } }> = walkthrough.steps;
const EXAMPLE = path.join(ROOT, 'example');

describe('walkthrough', () => {
  it('steps: no literal backticks, a completion event each, media that exist (images inside them too)', () => {
    assert.ok(steps.length >= 4);
    for (const s of steps) {
      assert.ok(!s.description.includes('`'), `${s.id}: backticks show literally in a step description: ${s.description}`);
      assert.ok(s.completionEvents && s.completionEvents.length > 0, `${s.id}: no completion event, the step never ticks off`);
      for (const e of s.completionEvents!) assert.match(e, /^(onCommand|onContext|onView|onSettingChanged|onLink|onStepSelected|extensionInstalled):/, e);
      const media = s.media.markdown ?? s.media.image;
      assert.ok(media && fs.existsSync(path.join(ROOT, media)), `${s.id}: media ${media}`);
      if (s.media.markdown) {
        const md = fs.readFileSync(path.join(ROOT, s.media.markdown), 'utf8');
        for (const m of md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) {
          assert.ok(fs.existsSync(path.join(ROOT, path.dirname(s.media.markdown), m[1])), `${s.id}: image ${m[1]}`);
        }
      }
    }
    assert.ok(steps.filter((s) => /!\[/.test(fs.readFileSync(path.join(ROOT, s.media.markdown ?? ''), 'utf8'))).length >= 3, 'steps show images of their own');
  });

  it('every script path and glob it names is relative to the example workspace', () => {
    const text = steps.map((s) => s.description + fs.readFileSync(path.join(ROOT, s.media.markdown!), 'utf8')).join('\n');
    assert.doesNotMatch(text, /example\//, 'the example workspace is opened at example/: paths are relative to it');
    const named = [...text.matchAll(/(?:`|python |")([\w./-]+\.py)\b/g)].map((m) => m[1]);
    assert.ok(named.includes('analyze.py') && named.includes('make_data.py'), named.join(', '));
    for (const f of named) assert.ok(fs.existsSync(path.join(EXAMPLE, f)), `${f} in example/`);
    assert.match(steps[0].description, /analyze\.py/);
    // the glob's folder is the one make_data.py writes
    assert.match(text, /data\/\*\.fits/);
    assert.match(fs.readFileSync(path.join(EXAMPLE, 'make_data.py'), 'utf8'), /["']data["']/);
  });

  it('the tasks.json snippet works as pasted: JSON with comments, a parallel-run task the schema accepts', () => {
    const md = fs.readFileSync(path.join(ROOT, 'media/walkthrough/run.md'), 'utf8');
    const snippet = /```jsonc\n([\s\S]*?)```/.exec(md)?.[1];
    assert.ok(snippet, 'a jsonc block');
    const parsed = ts.parseConfigFileTextToJson('tasks.json', snippet);
    assert.strictEqual(parsed.error, undefined, JSON.stringify(parsed.error?.messageText));
    const tasks = parsed.config.tasks as Array<Record<string, unknown>>;
    const def = pkg.contributes.taskDefinitions.find((d: { type: string }) => d.type === 'parallel-run');
    const task = tasks.find((t) => t.type === 'parallel-run')!;
    for (const r of def.required) assert.ok(r in task, `required ${r}`);
    const allowed = new Set([...Object.keys(def.properties), 'type', 'label', 'problemMatcher', 'group', 'detail']);
    for (const k of Object.keys(task)) assert.ok(allowed.has(k), `${k} is not a property of the parallel-run task type`);
    assert.ok(fs.existsSync(path.join(EXAMPLE, String(task.script))), `script ${task.script} in example/`);
    assert.deepStrictEqual(task.files, ['data/*.fits']);
  });
});
