#!/usr/bin/env node
// The main job on the bundled example: build, package the extension (.vsix), install it into a
// private code-server profile, generate the example star fields, run analyze.py over them once with
// the CLI (so the Runs view and report have a run to show), then serve VS Code on 127.0.0.1 with the
// example workspace open and print the URL. Ctrl-C stops it.
//   --no-serve   stop after the run (CI / smoke)        PR_PORT   port (default 8080, else a free one)
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const EXAMPLE = path.join(ROOT, 'example');
const PROFILE = path.join(ROOT, '.vscode-test', 'example-profile');
const CS = path.join(ROOT, '.vscode-test', 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const bin = (n) => path.join(ROOT, 'node_modules', '.bin', n);
const say = (m) => console.log(`[parallel-run] ${m}`);

function must(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts });
  if (r.status !== 0) { console.error(`[parallel-run] failed: ${cmd} ${args.join(' ')}`); process.exit(r.status || 1); }
}
function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
async function pickPort() {
  const want = Number(process.env.PR_PORT || 8080);
  if (await portFree(want)) return want;
  return new Promise((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
}

(async () => {
  say('building');
  must(bin('webpack'), ['--mode', 'production'], { stdio: ['ignore', 'ignore', 'inherit'] });
  say('packaging the extension');
  const vsix = path.join(ROOT, 'dist-vsix', 'parallel-run.vsix');
  fs.mkdirSync(path.dirname(vsix), { recursive: true });
  must('npm', ['run', '--silent', 'package']); // writes dist-vsix/parallel-run.vsix

  const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
  if (!python) { console.error('[parallel-run] python3 not found: install Python 3 with numpy'); process.exit(2); }
  say('generating the example star fields (first time only)');
  must(python, [path.join(EXAMPLE, 'make_data.py')], { cwd: EXAMPLE });

  say('running analyze.py over example/data with the parallel-run CLI');
  const runDir = path.join(EXAMPLE, '.parallel-run', 'runs', `example-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  must(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'run', '--files', 'data/*.fits', '--out', runDir, '--quiet',
    '--script', path.join(EXAMPLE, 'analyze.py')], { cwd: EXAMPLE });
  say(`run directory: ${path.relative(ROOT, runDir)} (journal, logs, report.json)`);
  if (process.argv.includes('--no-serve')) return;

  if (!fs.existsSync(CS)) { console.error('[parallel-run] code-server missing: run "bash scripts/install.sh"'); process.exit(2); }
  fs.mkdirSync(path.join(PROFILE, 'user-data', 'User'), { recursive: true });
  const settings = path.join(PROFILE, 'user-data', 'User', 'settings.json');
  if (!fs.existsSync(settings)) fs.writeFileSync(settings, JSON.stringify({ 'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off' }, null, 2));
  fs.writeFileSync(path.join(PROFILE, 'config.yaml'), 'auth: none\ncert: false\n');
  const env = { EXTENSIONS_GALLERY: '{}', ...process.env };
  const common = ['--user-data-dir', path.join(PROFILE, 'user-data'), '--extensions-dir', path.join(PROFILE, 'extensions')];
  say('installing the packaged extension into code-server');
  must(process.execPath, [CS, ...common, '--force', '--install-extension', vsix], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const port = await pickPort();
  const server = spawn(process.execPath, [CS, ...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
    '--config', path.join(PROFILE, 'config.yaml'), '--disable-telemetry', '--disable-update-check', '--ignore-last-opened'],
  { env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stderr.pipe(process.stderr);
  server.stdout.on('data', (d) => {
    if (/HTTP server listening/.test(String(d))) {
      say(`VS Code with Parallel Run and the example workspace: http://127.0.0.1:${port}/?folder=${encodeURIComponent(EXAMPLE)}`);
      say('Ctrl-C to stop');
    }
  });
  const stop = () => { server.kill('SIGTERM'); };
  process.on('SIGINT', stop); process.on('SIGTERM', stop);
  server.on('exit', (c) => process.exit(c ?? 0));
})();
