// Report timeline at scale: a REAL run of N tasks (default 10,000; /bin/true over N empty files, so
// the engine, journal and report are the real ones), exported as the self-contained HTML report and
// opened in headless Chromium. Measures the first render (JSON.parse + layout + first draw) and the
// draw time of each zoom/pan frame of the uPlot timeline (axes by uPlot, bars culled + sub-pixel merged in its draw hook), against two
// peers drawn in the same page from the same data:
//   naive-canvas   fillRect for every task on every frame (a canvas timeline without culling)
//   dom-divs       one absolutely positioned <div> per task (what DOM/SVG timeline widgets build)
// Ratios > 1 mean the peer is slower. A frame budget at 60 Hz is 16.7 ms.
//
//   node bench/reportRender.js [--tasks 10000] [--workers 4]
// Needs: npx webpack --mode development && npx tsc -p .   (dist/webview, dist/workers, out/)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const arg = (name, dflt) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const N = arg('--tasks', 10_000);
const WORKERS = arg('--workers', 4);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
}

async function main() {
  const { startRun } = require(path.join(ROOT, 'out/extension/core/run/engine.js'));
  const { readReport } = require(path.join(ROOT, 'out/extension/core/run/history.js'));
  const { buildStandaloneHtml, loadExportAssets } = require(path.join(ROOT, 'out/extension/host/report/exportHtml.js'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-bench-report-'));
  const data = path.join(tmp, 'data');
  fs.mkdirSync(data);
  for (let i = 0; i < N; i++) fs.writeFileSync(path.join(data, `f${String(i).padStart(5, '0')}.dat`), '');
  const t0 = Date.now();
  const h = await startRun({
    command: { kind: 'template', argv: ['/bin/true'] },
    files: { kind: 'folder', path: data, recursive: false },
    outDir: path.join(tmp, 'run'),
    workers: WORKERS,
    workersDir: path.join(ROOT, 'dist', 'workers'),
    label: `bench ${N} tasks`,
  });
  const live = await h.done;
  const runSec = (Date.now() - t0) / 1000;
  console.log(`real run: ${live.counts.succeeded}/${N} tasks on ${WORKERS} workers in ${runSec.toFixed(1)} s`);
  // the in-memory report keeps only the latest task records of a big run (tasksOmitted counts the
  // rest); report.json on disk has them all, and is what the panel shows once the run has ended
  const report = await readReport(h.outDir);
  if (!report || report.tasks.length !== N) throw new Error(`report.json holds ${report ? report.tasks.length : 'no'} task records, expected ${N}`);
  console.log(`report.json: ${report.tasks.length} tasks (the live report kept ${live.tasks.length}, omitted ${live.tasksOmitted ?? 0})`);
  const file = path.join(tmp, 'report.html');
  fs.writeFileSync(file, buildStandaloneHtml({ kind: 'run', subject: { report } }, await loadExportAssets(path.join(ROOT, 'dist'), path.join(ROOT, 'media'))));
  console.log(`export: ${(fs.statSync(file).size / 1e6).toFixed(1)} MB`);

  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const tOpen = Date.now();
  await page.goto(`file://${file}`);
  await page.waitForFunction(() => document.body.dataset.rendered, null, { timeout: 120_000 });
  const firstRenderMs = Date.now() - tOpen;
  const canvas = page.locator('canvas.timeline-canvas');
  await canvas.scrollIntoViewIfNeeded();
  await canvas.focus();
  const frame = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(Number(document.querySelector('canvas.timeline-canvas').dataset.drawMs))))));
  const ours = [];
  const rects = [];
  // full view, then zoom in 6 steps, pan across, zoom back out: 40 frames
  const keys = ['0', ...Array(6).fill('+'), ...Array(20).fill('ArrowRight'), ...Array(6).fill('-'), ...Array(7).fill('ArrowLeft')];
  for (const k of keys) {
    await page.keyboard.press(k);
    ours.push(await frame());
    rects.push(Number(await canvas.getAttribute('data-rects')));
  }
  const peers = await page.evaluate(() => {
    const data = JSON.parse(document.getElementById('report-data').textContent);
    const tasks = data.subject.report.tasks;
    const c = document.querySelector('canvas.timeline-canvas');
    const w = c.clientWidth;
    const off = document.createElement('canvas');
    off.width = c.width;
    off.height = c.height;
    const ctx = off.getContext('2d');
    const t0 = Math.min(...tasks.map((t) => t.start));
    const t1 = Math.max(...tasks.map((t) => t.end));
    const naive = [];
    for (let rep = 0; rep < 10; rep++) {
      const s = performance.now();
      ctx.clearRect(0, 0, off.width, off.height);
      for (const t of tasks) {
        ctx.fillStyle = t.status === 'succeeded' ? '#1a85ff' : '#e51400';
        ctx.fillRect(((t.start - t0) / (t1 - t0)) * w, 22 + (t.slot - 1) * 20, Math.max(1, ((t.end - t.start) / (t1 - t0)) * w), 14);
      }
      ctx.getImageData(0, 0, 1, 1); // flush the canvas work inside the timed region
      naive.push(performance.now() - s);
    }
    const host = document.createElement('div');
    host.style.position = 'relative';
    host.style.height = '200px';
    document.body.appendChild(host);
    const s = performance.now();
    for (const t of tasks) {
      const d = document.createElement('div');
      d.style.position = 'absolute';
      d.style.left = `${((t.start - t0) / (t1 - t0)) * 100}%`;
      d.style.width = `${Math.max(0.01, ((t.end - t.start) / (t1 - t0)) * 100)}%`;
      d.style.top = `${(t.slot - 1) * 20}px`;
      d.style.height = '14px';
      d.title = t.file;
      host.appendChild(d);
    }
    void host.getBoundingClientRect().width; // force layout
    const dom = performance.now() - s;
    host.remove();
    return { naive, dom, n: tasks.length };
  });
  const renderedTasks = JSON.parse(await page.evaluate(() => document.body.dataset.rendered)).tasks;
  await browser.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  if (peers.n !== N || renderedTasks !== N) throw new Error(`the exported report embedded ${peers.n} tasks and the page drew ${renderedTasks}, expected ${N}`);
  const oursMed = median(ours);
  const naiveMed = median(peers.naive);
  const result = {
    tasks: peers.n, renderedTasks, liveTasksKept: live.tasks.length, workers: WORKERS, runSec, firstRenderMs,
    // the machine's 1-min load average when measured: the times scale with it on a shared machine
    loadAvg1: os.loadavg()[0],
    oursDrawMsMedian: oursMed, oursDrawMsMax: Math.max(...ours), rectsMax: Math.max(...rects),
    // every frame, in key order (0, 6× +, 20× ArrowRight, 6× -, 7× ArrowLeft): an outlier shows where it was
    oursFrames: ours.map((x) => Math.round(x * 100) / 100),
    naiveCanvasMsMedian: naiveMed, domDivsMs: peers.dom,
    ratioNaiveVsOurs: naiveMed / oursMed, ratioDomVsOurs: peers.dom / oursMed, errors,
  };
  console.log(`first render of the exported report: ${firstRenderMs} ms`);
  console.log(`timeline frame draw (${ours.length} zoom/pan frames): median ${oursMed.toFixed(2)} ms, max ${result.oursDrawMsMax.toFixed(2)} ms, at most ${result.rectsMax} rectangles`);
  console.log(`naive-canvas  ${naiveMed.toFixed(2)} ms per frame  → ${result.ratioNaiveVsOurs.toFixed(1)}× ours`);
  console.log(`dom-divs      ${peers.dom.toFixed(1)} ms to build once → ${result.ratioDomVsOurs.toFixed(1)}× one of our frames`);
  if (errors.length) console.log(`page errors: ${errors.join(' | ')}`);
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', 'reportRender.json'), JSON.stringify(result, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
