import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { startRun } from '../../extension/core/run/engine';
import type { RunReport } from '../../extension/core/run/types';
import { buildStandaloneHtml, escapeJsonForHtml, escapeScriptText, loadExportAssets } from '../../extension/host/report/exportHtml';
import { normaliseSweep, readSweep } from '../../extension/host/report/sweepFile';

const root = path.resolve(__dirname, '../../..');
const workersDir = path.join(root, 'dist', 'workers');

/** A real run (real processes) over files whose names are markup; one of them fails. */
async function hostileRun(dir: string): Promise<RunReport> {
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { recursive: true });
  for (const n of ['<img src=x onerror=alert(1)>.dat', '--!><script>alert(1)<!--.dat', 'plain.dat']) fs.writeFileSync(path.join(data, n), 'x');
  const h = await startRun({
    command: { kind: 'template', argv: [process.execPath, '-e', 'if (process.argv[1].includes("plain")) process.exit(3)', '{}'] },
    files: { kind: 'folder', path: data, recursive: false },
    outDir: path.join(dir, 'run'),
    workers: 2,
    workersDir,
  });
  return h.done;
}

describe('report export (self-contained HTML)', function () {
  this.timeout(60_000);
  let tmp: string;
  let report: RunReport;
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-export-'));
    report = await hostileRun(tmp);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('ran the real tasks (the data under test is real)', () => {
    assert.strictEqual(report.counts.done, 3);
    assert.strictEqual(report.counts.failed, 1);
    assert.ok(report.tasks.some((t) => t.file.includes('<img src=x onerror=alert(1)>')));
  });

  it('embeds the data as inert JSON that round-trips exactly, with one nonce script and a strict CSP', async () => {
    const html = buildStandaloneHtml({ kind: 'run', subject: { report, runDir: path.join(tmp, 'run') } }, await loadExportAssets(path.join(root, 'dist'), path.join(root, 'media')));
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
    assert.match(csp, /^default-src 'none'; script-src 'nonce-[A-Za-z0-9+/=]+'; style-src 'nonce-/);
    // the JSON block: no "<" inside, so it cannot close the element or open a comment
    const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
    assert.ok(m, 'data block present');
    assert.ok(!m[1].includes('<'), 'no raw "<" in the data block');
    const back = JSON.parse(m[1]);
    assert.deepStrictEqual(back.subject.report, JSON.parse(JSON.stringify(report)));
    assert.strictEqual(back.subject.runDir, undefined, 'local run directory is not exported');
    // exactly two <script> elements: the data block and the nonce'd bundle
    assert.strictEqual((html.match(/<script\b/g) ?? []).length, 2);
    assert.strictEqual((html.match(/<script nonce="/g) ?? []).length, 1);
    // the file names never appear as markup
    assert.ok(!html.includes('<img src=x'), 'hostile name appears nowhere as markup');
    assert.ok(!/\b(src|href)=["']?https?:/i.test(html), 'no network URLs in attributes');
    assert.ok(!/sourceMappingURL=/.test(html), 'no source map request');
  });

  it('escapes script text so an inlined bundle cannot close its element', () => {
    assert.strictEqual(escapeScriptText('a="</script>";b="<!--"'), 'a="<\\/script>";b="<\\!--"');
    assert.strictEqual(JSON.parse(escapeJsonForHtml({ s: '</script><b>&' })).s, '</script><b>&');
  });
});

describe('sweep.json reader', () => {
  it('accepts the documented shape and the sweep analysis shape', async () => {
    const doc = normaliseSweep({ points: [{ workers: 1, threads: 1, wallMs: 1000, speedup: 1, efficiency: 1, karpFlatt: null, spread: 0.01 }, { workers: 2, threads: 1, wallMs: 520, speedup: 1.92, efficiency: 0.96, karpFlatt: 0.04, spread: 0.02 }], fit: { serialFraction: 0.04 } });
    assert.strictEqual(doc?.points.length, 2);
    assert.strictEqual(doc?.fit.serialFraction, 0.04);
    const analysis = normaliseSweep({ points: [{ workers: 2, threads: 1, medianMs: 500, speedup: 2, efficiency: 1, karpFlatt: 0, spread: 0, oversubscribed: true }], amdahl: { serialFraction: 0.02 }, recommendation: { workers: 2, threads: 1, reason: 'fastest' } });
    assert.strictEqual(analysis?.points[0].wallMs, 500);
    assert.strictEqual(analysis?.points[0].oversubscribed, true);
    assert.strictEqual(analysis?.fit.serialFraction, 0.02);
    assert.strictEqual(analysis?.recommendation?.workers, 2);
    assert.strictEqual(normaliseSweep({ points: [{ workers: 'x' }] }), undefined);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-sweep-'));
    assert.strictEqual(await readSweep(dir), undefined, 'no sweep.json: nothing');
    fs.writeFileSync(path.join(dir, 'sweep.json'), '{broken');
    assert.strictEqual(await readSweep(dir), undefined, 'damaged sweep.json: nothing, no throw');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
