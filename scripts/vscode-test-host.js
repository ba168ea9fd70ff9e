#!/usr/bin/env node
// Run VS Code extension integration tests in the REAL (Node) extension host of code-server,
// with a headless Debian Chromium (driven by playwright-core) as the workbench UI.
//
// It takes the same arguments VS Code takes, so it can be used directly as
// `vscodeExecutablePath` of @vscode/test-electron's runTests(), or run by hand:
//
//   node vscode-test-host.js --extensionDevelopmentPath=<ext dir> --extensionTestsPath=<tests index.js> [workspace folder]
//
// Exit code: 0 = tests passed, 1 = tests failed / test runner threw, 2 = timeout, 3 = infrastructure error.
//
// How the result gets back: the workbench is opened with the `payload` query parameter holding
// extensionDevelopmentPath / extensionTestsPath as vscode-remote:// URIs. The extension host
// require()s the tests module and calls its run(); when the promise settles the extension host
// exits with 0/1 and the workbench calls window.codeAutomationExit(code), which we expose with
// playwright. Console output of the extension host (e.g. mocha's reporter) comes back through
// window.codeAutomationLog. If the tests write {passes:[..], failures:[..]} JSON to
// $VSCODE_TEST_RESULTS_FILE (set here for the extension host), a "vscode-tests: N passed, M failed"
// line is printed at the end.
//
// The offline traps of running code-server as a test host are solved here.
// Env: CODE_SERVER_DIR   code-server package dir (default <project>/.vscode-test/code-server/node_modules/code-server)
//      CHROMIUM_PATH     (default /usr/bin/chromium)
//      VSCODE_TEST_TIMEOUT seconds (default 600)
//      VSCODE_TEST_VERBOSE=1 also print code-server's and the page's raw console output
//      PR_TEST_TRUST=untrusted  Workspace Trust ON and the opened folder NOT trusted (default: trust
//                        disabled, i.e. everything trusted). The folder stays untrusted because the
//                        trusted-folders list lives in the browser's storage, and playwright starts
//                        Chromium with a fresh profile; startupPrompt "never" keeps the modal
//                        "Do you trust the authors?" dialog from blocking the window.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const util = require('util');

function parseArgs(argv) {
  const o = { dev: [], tests: undefined, positional: [], userDataDir: undefined, extensionsDir: undefined };
  const valueFlags = {
    '--extensionDevelopmentPath': (v) => o.dev.push(v),
    '--extensionTestsPath': (v) => { o.tests = v; },
    '--user-data-dir': (v) => { o.userDataDir = v; },
    '--extensions-dir': (v) => { o.extensionsDir = v; },
    '--folder-uri': (v) => o.positional.push(v.replace(/^file:\/\//, '')),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(0, eq) : a;
      if (valueFlags[name]) valueFlags[name](eq >= 0 ? a.slice(eq + 1) : argv[++i]);
      // other VS Code flags (--no-sandbox, --disable-updates, --skip-welcome, ...) are ignored
    } else {
      o.positional.push(a);
    }
  }
  return o;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

const log = (...m) => console.log('[vscode-test-host]', ...m);

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts.tests || opts.dev.length === 0) {
    console.error('usage: vscode-test-host.js --extensionDevelopmentPath=<dir> --extensionTestsPath=<file> [folder]');
    return 3;
  }
  const verbose = process.env.VSCODE_TEST_VERBOSE === '1';
  const csDir = path.resolve(process.env.CODE_SERVER_DIR || path.join(__dirname, '..', '.vscode-test', 'code-server', 'node_modules', 'code-server'));
  const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  const timeoutSec = Number(process.env.VSCODE_TEST_TIMEOUT || 600);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vscode-test-host-'));
  const userData = path.resolve(opts.userDataDir || path.join(work, 'user-data'));
  // VS Code web keeps ONE extensionDevelopmentPath (the workbench turns the payload into a Map): the
  // first is the extension under test; further ones (e.g. a stand-in for an extension it talks to) are
  // INSTALLED instead, copied into a launch-private extensions dir that code-server scans at start
  // (the shared --extensions-dir runTests() passes would keep them for later launches).
  const [devPath, ...extraDev] = opts.dev;
  const extDir = path.resolve(extraDev.length ? path.join(work, 'extensions') : opts.extensionsDir || path.join(work, 'extensions'));
  for (const d of extraDev) {
    const pj = JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8'));
    fs.cpSync(d, path.join(extDir, `${pj.publisher}.${pj.name}-${pj.version}`), { recursive: true });
    log(`installed ${pj.publisher}.${pj.name} ${pj.version} from ${d}`);
  }
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.mkdirSync(extDir, { recursive: true });
  fs.mkdirSync(path.join(work, 'tmp'), { recursive: true });
  const untrusted = process.env.PR_TEST_TRUST === 'untrusted';
  if (process.env.PR_TEST_TRUST && !untrusted) { console.error(`PR_TEST_TRUST=${process.env.PR_TEST_TRUST}: only "untrusted" is known`); return 3; }
  const trustSettings = untrusted
    ? {
      'security.workspace.trust.enabled': true,
      'security.workspace.trust.startupPrompt': 'never',
      'security.workspace.trust.emptyWindow': false,
      'security.workspace.trust.untrustedFiles': 'open',
    }
    : { 'security.workspace.trust.enabled': false };
  const settingsFile = path.join(userData, 'User', 'settings.json');
  let userSettings = {
    'workbench.startupEditor': 'none',
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'workbench.enableExperiments': false,
    // no spinners/animations repainting the headless workbench: CPU for the tests, not for pixels
    'workbench.reduceMotion': 'on',
    'workbench.tips.enabled': false,
  };
  if (fs.existsSync(settingsFile)) {
    // runTests() passes a user-data dir kept across launches: keep what is there, but the trust keys
    // below must match THIS launch (a trusted launch before an untrusted one wrote "enabled": false)
    try { userSettings = JSON.parse(fs.readFileSync(settingsFile, 'utf8')); } catch (_) { /* not ours: rewrite */ }
    for (const k of Object.keys(userSettings)) if (k.startsWith('security.workspace.trust.')) delete userSettings[k];
  }
  fs.writeFileSync(settingsFile, JSON.stringify({ ...userSettings, ...trustSettings }, null, 2));
  const configFile = path.join(work, 'config.yaml');
  fs.writeFileSync(configFile, 'auth: none\ncert: false\n');
  const resultsFile = process.env.VSCODE_TEST_RESULTS_FILE || path.join(work, 'results.json');
  fs.rmSync(resultsFile, { force: true }); // never report a stale file

  const entry = path.join(csDir, 'out', 'node', 'entry.js');
  if (!fs.existsSync(entry)) { console.error(`code-server not found at ${csDir} (set CODE_SERVER_DIR)`); return 3; }
  const port = await freePort();
  const t0 = Date.now();
  const server = spawn(process.env.CODE_SERVER_NODE || process.execPath, [entry,
    '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--config', configFile,
    '--user-data-dir', userData, '--extensions-dir', extDir,
    '--disable-telemetry', '--disable-update-check',
    // runTests() passes --disable-workspace-trust to us too; it only reaches code-server when trusted
    ...(untrusted ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override', '--ignore-last-opened'], {
    stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    // EXTENSIONS_GALLERY={} disables the extension marketplace: no network calls from the workbench.
    env: { EXTENSIONS_GALLERY: '{}', ...process.env, VSCODE_TEST_RESULTS_FILE: resultsFile,
      // keep code-server's IPC sockets and temp files inside the run's own folder
      TMPDIR: path.join(work, 'tmp'),
      XDG_CONFIG_HOME: path.join(work, 'xdg-config'), XDG_DATA_HOME: path.join(work, 'xdg-data') },
  });
  const serverLog = fs.createWriteStream(path.join(work, 'code-server.log'));
  const serverExit = new Promise((r) => server.on('exit', r));
  const stopServer = async () => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    try { process.kill(-server.pid, 'SIGTERM'); } catch (_) { return; }
    const t = setTimeout(() => { try { process.kill(-server.pid, 'SIGKILL'); } catch (_) { /* gone */ } }, 10000);
    await serverExit; clearTimeout(t);
  };
  process.on('SIGINT', () => { stopServer().then(() => process.exit(130)); });
  process.on('SIGTERM', () => { stopServer().then(() => process.exit(143)); });

  let browser;
  let code = 3;
  try {
    await new Promise((resolve, reject) => {
      let buf = '';
      const onData = (d) => {
        serverLog.write(d);
        if (verbose) process.stdout.write(`[code-server] ${d}`);
        buf += d.toString();
        if (/HTTP server listening on/.test(buf)) resolve();
      };
      server.stdout.on('data', onData);
      server.stderr.on('data', onData);
      server.on('exit', () => reject(new Error(`code-server exited before listening:\n${buf}`)));
      setTimeout(() => reject(new Error('code-server did not start within 120s')), 120000);
    });
    log(`code-server listening on 127.0.0.1:${port}${untrusted ? ' (Workspace Trust on, folder untrusted)' : ''} after ${((Date.now() - t0) / 1000).toFixed(1)}s`);

    const { chromium } = require('playwright-core');
    browser = await chromium.launch({
      executablePath: chromiumPath, headless: true,
      // playwright gives Chromium a fresh temporary profile (--user-data-dir) itself.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    let onExit;
    const exited = new Promise((r) => { onExit = r; });
    // workbench chatter that is not test output
    const noise = /^(Ignoring fetching additional builtin|Creating a socket|Resolving connection token|Resolved connection token|\[Service Worker\]|ChatSessionStore|Updating additional builtin)/;
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const line = util.format(...(Array.isArray(args) ? args : [args])); // handles %s/%d/%c like console.log
      if (!verbose && noise.test(line)) return;
      (type === 'error' ? console.error : console.log)(line);
    });
    await page.exposeFunction('codeAutomationExit', (c) => onExit(c));
    if (verbose) page.on('console', (m) => console.log(`[page:${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log('page error:', e.message));

    const authority = `127.0.0.1:${port}`;
    // The remote authority the workbench uses differs between code-server versions
    // (4.100: "<host>:<port>", 4.139: "remote"); read it from the served page's configuration.
    const html = await (await fetch(`http://${authority}/?ew=true`)).text();
    const m = html.match(/id="vscode-workbench-web-configuration"[^>]*data-settings="([^"]*)"/);
    const cfg = m ? JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) : {};
    const remoteAuthority = cfg.remoteAuthority || authority;
    const remote = (p) => `vscode-remote://${remoteAuthority}${path.resolve(p).split(path.sep).map(encodeURIComponent).join('/')}`;
    const payload = [['extensionDevelopmentPath', remote(devPath)], ['extensionTestsPath', remote(opts.tests)]];
    const target = opts.positional[0] ? path.resolve(opts.positional[0]) : undefined;
    let url = `http://${authority}/?payload=${encodeURIComponent(JSON.stringify(payload))}`;
    if (target) url += `&${target.endsWith('.code-workspace') ? 'workspace' : 'folder'}=${encodeURIComponent(target)}`;
    else url += '&ew=true'; // empty window
    await page.goto(url, { timeout: 180_000 });
    const res = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), timeoutSec * 1000))]);
    if (res === 'timeout') {
      log(`TIMEOUT: tests did not finish within ${timeoutSec}s`);
      await page.screenshot({ path: path.join(work, 'timeout.png') }).catch(() => {});
      code = 2;
    } else {
      code = Number(res) === 0 ? 0 : 1;
      log(`extension host exited with code ${res}`);
    }
  } catch (e) {
    log('ERROR:', (e && e.stack) || e);
    code = 3;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await stopServer();
    serverLog.end();
  }
  try {
    const r = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
    console.log(`vscode-tests: ${r.passes.length} passed, ${r.failures.length} failed`);
    if (code === 0 && r.failures.length > 0) code = 1;
  } catch (_) { /* the tests did not write a results file */ }
  log(`done in ${((Date.now() - t0) / 1000).toFixed(1)}s, exit ${code}${code ? `; logs kept in ${work}` : ''}`);
  if (code === 0) fs.rmSync(work, { recursive: true, force: true });
  return code;
}

main().then((c) => process.exit(c), (e) => { console.error(e); process.exit(3); });
