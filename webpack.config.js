// Three kinds of bundles (see ARCHITECTURE.md):
//  1. the extension host entry (node target, `vscode` is external: the host provides it);
//  2. plain-Node entries: the CLI and every workerpool worker. NO `vscode` external here, so a stray
//     `import 'vscode'` below core/ or workers/ fails the build instead of failing a user;
//  3. webview scripts (web target), which may import only from shared/.
// Workers are separate files loaded by absolute path (workerpool's default worker path breaks when bundled).
'use strict';
const path = require('path');
const fs = require('fs');

const root = __dirname;
const dist = path.join(root, 'dist');

/** every extension/workers/*.ts is its own entry: dist/workers/<name>.js */
function workerEntries() {
  const dir = path.join(root, 'extension', 'workers');
  const entries = {};
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (f.endsWith('.ts')) entries[`workers/${f.slice(0, -3)}`] = path.join(dir, f);
  }
  return entries;
}

/** every extension/webview/*Main.ts is a panel script: dist/webview/<name>.js */
function webviewEntries() {
  const dir = path.join(root, 'extension', 'webview');
  const entries = {};
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (/Main\.ts$/.test(f)) entries[f.slice(0, -3)] = path.join(dir, f);
  }
  return entries;
}

// ES modules reach webpack as they are (tsc's own build for tests emits CommonJS): webpack then
// splits at each `import()` (a feature loaded on first use is a chunk of its own) and drops unused exports.
const tsRule = {
  test: /\.ts$/,
  exclude: /node_modules/,
  use: [{ loader: 'ts-loader', options: { transpileOnly: true, compilerOptions: { sourceMap: true, module: 'es2022', moduleResolution: 'node10' } } }],
};

/** @type {(env: any, argv: any) => import('webpack').Configuration[]} */
module.exports = (_env, argv) => {
  const mode = argv.mode || 'none';
  const common = {
    mode,
    devtool: 'source-map',
    resolve: { extensions: ['.ts', '.js'] },
    module: { rules: [tsRule] },
    infrastructureLogging: { level: 'warn' },
    performance: { hints: false },
    optimization: { minimize: false },
  };
  const configs = [
    {
      ...common,
      name: 'extension',
      target: 'node',
      entry: { extension: './extension/extension.ts' },
      // features loaded on first use (import()) are chunks of their own, out of the activation path
      output: { path: dist, filename: '[name].js', chunkFilename: 'chunks/extension-[name].js', libraryTarget: 'commonjs2', devtoolModuleFilenameTemplate: '../[resource-path]' },
      externals: { vscode: 'commonjs vscode' },
      node: { __dirname: false, __filename: false },
    },
    {
      ...common,
      name: 'node-entries',
      target: 'node',
      entry: { cli: './extension/cli/bin.ts', ...workerEntries() },
      // the CLI's subcommands (and what only they use) are chunks loaded when they run
      output: { path: dist, filename: '[name].js', chunkFilename: 'chunks/cli-[name].js', libraryTarget: 'commonjs2', devtoolModuleFilenameTemplate: '../[resource-path]' },
      // deliberately no `vscode` external
      node: { __dirname: false, __filename: false },
      plugins: [new (require('webpack').BannerPlugin)({ banner: '#!/usr/bin/env node', raw: true, include: /^cli\.js$/ })],
    },
    {
      ...common,
      name: 'webview',
      target: 'web',
      entry: webviewEntries(),
      output: { path: path.join(dist, 'webview'), filename: '[name].js' },
    },
  ];
  // webpack refuses an empty entry object: drop the webview config until a panel script exists
  return configs.filter((c) => Object.keys(c.entry).length > 0);
};
