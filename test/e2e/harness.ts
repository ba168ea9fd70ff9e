/**
 * E2E harness: the PACKAGED extension (.vsix built with @vscode/vsce, installed with code-server's
 * --install-extension) in a real workbench (code-server on 127.0.0.1), driven by playwright-core
 * with Debian's Chromium. Scenario files are test/e2e/*.e2e.ts exporting `scenarios`.
 */
import { spawn, spawnSync, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import type { Browser, FrameLocator, Page } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const SCREENSHOTS = path.join(ROOT, 'test-results', 'e2e');
const CS_DIR = path.resolve(process.env.CODE_SERVER_DIR || path.join(ROOT, '.vscode-test', 'code-server', 'node_modules', 'code-server'));
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export interface E2EContext {
  page: Page;
  /** The opened workspace folder (a fresh copy of example/). */
  workspace: string;
  /**
   * F1 → type the title → click the row with that title. Retried: a webview or a hover taking the
   * focus can close the box between the key and the typing.
   */
  runCommand(title: string): Promise<void>;
  /** Saves test-results/e2e/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  /** The inner frame of the webview whose tab title contains `title` (or the last webview). */
  webview(title?: string): FrameLocator;
  log(...m: unknown[]): void;
}

export interface E2EScenario {
  name: string;
  /**
   * User settings written before the page loads. (code-server does not reliably apply a settings.json
   * changed while the page is open: its server sees the change, the page does not read the file again.)
   */
  userSettings?: Record<string, unknown>;
  run(ctx: E2EContext): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Build dist-vsix/parallel-run.vsix from the current build (dist/ must be built). */
export function packageVsix(): string {
  const out = path.join(ROOT, 'dist-vsix', 'parallel-run.vsix');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  // package.json's "package" script: the one place that says how the .vsix is made (it writes `out`)
  const r = spawnSync('npm', ['run', '--silent', 'package'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vsce package failed:\n${r.stdout}\n${r.stderr}`);
  return out;
}

export class Workbench {
  private server?: ChildProcess;
  private browser?: Browser;
  readonly work = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-e2e-'));
  readonly userData = path.join(this.work, 'user-data');
  readonly extDir = path.join(this.work, 'extensions');
  port = 0;

  /** Install the vsix into a private extensions dir and start code-server. */
  async start(vsix: string): Promise<void> {
    fs.mkdirSync(path.join(this.userData, 'User'), { recursive: true });
    fs.mkdirSync(path.join(this.work, 'tmp'), { recursive: true });
    fs.writeFileSync(path.join(this.work, 'config.yaml'), 'auth: none\ncert: false\n');
    const entry = path.join(CS_DIR, 'out', 'node', 'entry.js');
    if (!fs.existsSync(entry)) throw new Error(`code-server not found at ${CS_DIR}: run "bash scripts/install.sh"`);
    const env = { EXTENSIONS_GALLERY: '{}', ...process.env, TMPDIR: path.join(this.work, 'tmp') };
    const inst = spawnSync(process.execPath, [entry, '--user-data-dir', this.userData, '--extensions-dir', this.extDir, '--install-extension', vsix], { encoding: 'utf8', env });
    if (inst.status !== 0 || !/successfully installed/i.test(inst.stdout + inst.stderr)) {
      throw new Error(`--install-extension failed:\n${inst.stdout}\n${inst.stderr}`);
    }
    this.port = await freePort();
    this.server = spawn(process.execPath, [entry, '--bind-addr', `127.0.0.1:${this.port}`, '--auth', 'none',
      '--config', path.join(this.work, 'config.yaml'), '--user-data-dir', this.userData, '--extensions-dir', this.extDir,
      '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
      '--ignore-last-opened'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
    const logFile = fs.createWriteStream(path.join(this.work, 'code-server.log'));
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      const on = (d: Buffer) => { logFile.write(d); buf += d.toString(); if (/HTTP server listening/.test(buf)) resolve(); };
      this.server!.stdout!.on('data', on);
      this.server!.stderr!.on('data', on);
      this.server!.on('exit', () => reject(new Error(`code-server exited:\n${buf}`)));
      setTimeout(() => reject(new Error('code-server did not start in 120 s')), 120_000);
    });
    const { chromium } = await import('playwright-core');
    this.browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }

  writeUserSettings(extra: Record<string, unknown> = {}): string {
    const file = path.join(this.userData, 'User', 'settings.json');
    fs.writeFileSync(file, JSON.stringify({
      'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false, 'telemetry.telemetryLevel': 'off',
      'workbench.tips.enabled': false, 'extensions.autoCheckUpdates': false, 'extensions.autoUpdate': false,
      'window.restoreWindows': 'none', 'workbench.colorTheme': 'Default Dark Modern',
      // no animation repainting the page while tests wait (CPU goes to the runs under test)
      'workbench.reduceMotion': 'on', ...extra,
    }, null, 2));
    return file;
  }

  /** Open a fresh page on `workspace` and build the scenario context. */
  async open(workspace: string, settings: Record<string, unknown> = {}): Promise<E2EContext & { close(): Promise<void> }> {
    this.writeUserSettings(settings);
    const page = await this.browser!.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('dialog', (d) => { console.log(`[e2e] DIALOG (${d.type()}): ${d.message()}`); void d.dismiss(); });
    await page.goto(`http://127.0.0.1:${this.port}/?folder=${encodeURIComponent(workspace)}`, { timeout: 180_000 });
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    await page.waitForSelector('.statusbar', { timeout: 60_000 });
    await page.waitForTimeout(1500);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const ctx = {
      page, workspace,
      async runCommand(title: string) {
        const input = page.locator('.quick-input-widget input');
        for (let attempt = 1; ; attempt++) {
          try {
            await page.keyboard.press('Escape');
            await page.keyboard.press('F1');
            try {
              await input.waitFor({ state: 'visible', timeout: 5_000 });
            } catch {
              // a webview holding the focus may keep F1 from the workbench: the title bar's command
              // center opens the same box (as a user would click it)
              await page.locator('.command-center').first().click({ timeout: 5_000 });
              await input.waitFor({ state: 'visible', timeout: 15_000 });
            }
            await input.fill(`>${title}`, { timeout: 5_000 });
            // the exact title, not the first row (e.g. "Browse Color Themes in Marketplace" ranks above "Color Theme")
            const row = page.locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) }) });
            await row.first().click({ timeout: 15_000 });
            return;
          } catch (err) {
            if (attempt >= 3) throw err;
            console.log(`[e2e] command box for "${title}" (attempt ${attempt}): ${String((err as Error)?.message ?? err).split('\n')[0]}`);
          }
        }
      },
      async screenshot(name: string) {
        const file = path.join(SCREENSHOTS, `${name}.png`);
        await page.screenshot({ path: file });
        return file;
      },
      webview(title?: string) {
        const outer = title
          ? page.locator(`iframe.webview.ready[title*="${title.replace(/"/g, '\\"')}"]`)
          : page.locator('iframe.webview.ready');
        void outer;
        return page.frameLocator(title ? `iframe.webview.ready[title*="${title.replace(/"/g, '\\"')}"]` : 'iframe.webview.ready >> nth=-1')
          .frameLocator('iframe#active-frame');
      },
      log: (...m: unknown[]) => console.log('[e2e]', ...m),
      close: () => page.close(),
    };
    return ctx;
  }

  async stop(): Promise<void> {
    await this.browser?.close().catch(() => undefined);
    const s = this.server;
    if (s && s.exitCode === null && s.pid) {
      try { process.kill(-s.pid, 'SIGTERM'); } catch { /* gone */ }
      await new Promise((r) => { s.on('exit', r); setTimeout(r, 10_000); });
    }
  }
}

/** Quick Open (Ctrl+P) a workspace file by name and wait for its editor tab. */
export async function openFile(ctx: E2EContext, name: string): Promise<void> {
  const { page } = ctx;
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 30_000 });
  await page.keyboard.press('Enter');
  // the ACTIVE tab: commands that use the active editor run right after this
  await page.locator('.tabs-container .tab.active', { hasText: name }).first().waitFor({ timeout: 30_000 });
}

/** The Runs view lists the finished run (`label` over …, all `files` ✓); expanding it shows `firstFile`. */
export async function expectRunInRunsView(ctx: E2EContext, label: string, files: number, firstFile: string): Promise<void> {
  const { page } = ctx;
  await ctx.runCommand('Parallel Run: Focus on Runs View');
  const row = page.locator('.monaco-list-row', { hasText: `${label} over` }).first();
  await row.waitFor({ timeout: 30_000 });
  await page.locator('.monaco-list-row', { hasText: `${files}/${files} ✓` }).first().waitFor({ timeout: 30_000 });
  await row.click();
  await page.locator('.monaco-list-row', { hasText: firstFile }).first().waitFor({ timeout: 30_000 });
}

/** The workspace's one run directory (the scenario started exactly one run). */
export function onlyRunDir(ctx: E2EContext): string {
  const runsDir = path.join(ctx.workspace, '.parallel-run', 'runs');
  const runs = fs.readdirSync(runsDir);
  if (runs.length !== 1) throw new Error(`expected one run directory, found ${runs.join(', ')}`);
  return path.join(runsDir, runs[0]);
}

/** A fresh copy of the bundled example workspace (without generated data/results). */
export function freshExampleWorkspace(): string {
  const dst = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-e2e-ws-'));
  fs.cpSync(path.join(ROOT, 'example'), dst, {
    recursive: true,
    filter: (src) => !/^(data|results|\.parallel-run)([\\/]|$)/.test(path.relative(path.join(ROOT, 'example'), src)),
  });
  return dst;
}
